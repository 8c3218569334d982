"""Synthesis: embeddings of contributions, clusters, campaigns and reports."""
