"""Open data: versions, contributions, votes, answers, clusters, campaigns and changes."""
