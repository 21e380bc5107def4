"""The knowledge base: YAML files in ``knowledge/``, loaded, validated and rendered."""
