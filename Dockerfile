# The admissions bot in a container: the same run_bot.py as on a server.
# Build: docker build -t admissions-bot .    Run: see compose.yaml and the README ("Conteneur").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BOT_DATABASE=/app/data/bot.db \
    KNOWLEDGE_DIR=/app/knowledge

WORKDIR /app

# A fixed uid, so a host folder mounted on /app/data can be given to it (chown 10001).
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /app --no-create-home --shell /usr/sbin/nologin bot

# Dependencies first: this layer is rebuilt only when pyproject.toml or the code changes.
COPY pyproject.toml ./
COPY bot/ bot/
COPY handlers/ handlers/
RUN pip install --no-cache-dir .

COPY run_bot.py ./
# The knowledge base shipped with the image; mount the host's copy on /app/knowledge
# (compose.yaml) so the staff's edits survive an image update.
COPY knowledge/ knowledge/

RUN mkdir -p /app/data && chown bot:bot /app/data
USER 10001:10001
# The SQLite database (and its backups, if written there): keep it on a volume.
VOLUME ["/app/data"]

# Webhook mode only (TELEGRAM_WEBHOOK_URL, WEBHOOK_LISTEN=0.0.0.0): behind a TLS reverse proxy.
EXPOSE 8080
# The bot answers SIGTERM by finishing the updates under way (docker stop waits 10 s by default).
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "run_bot.py"]
CMD ["run"]
