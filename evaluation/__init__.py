"""Quality evaluations that judge the recommender on data it does not read when it answers."""
