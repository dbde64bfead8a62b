"""Errors a user can fix; each message is one line that says what to run."""


class RecommenderError(Exception):
    pass


class CatalogMissingError(RecommenderError):
    pass


class EmptyCatalogError(RecommenderError):
    pass


class ModelMismatchError(RecommenderError):
    """The catalogue's vectors were made by another form of the model than this process runs."""


class TaxonomyMissingError(RecommenderError):
    pass


class EmptyGoalError(RecommenderError):
    pass


class InvalidRequestError(RecommenderError):
    """A goal, skill list or k outside the bounds the recommender serves (`api.check_request`)."""
