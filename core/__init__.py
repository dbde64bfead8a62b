"""What the build and the recommender share: the model, the text and language logic, the DDL and
connections, and the meaning of what the catalogue stores. Imports nothing of `pipeline`,
`recommender`, `dashboard` or `crawlers`."""
