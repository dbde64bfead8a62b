"""Errors a user can fix; each message is one line that says what to run."""


class RecommenderError(Exception):
    pass


class CatalogMissingError(RecommenderError):
    pass


class EmptyCatalogError(RecommenderError):
    pass


class CatalogReplacedError(RecommenderError):
    """The catalogue file an engine was opened on was replaced or removed before a part it reads at
    first use was read; the next call opens the new one."""


class ModelMismatchError(RecommenderError):
    """The catalogue's vectors were made by another form of the model than this process runs."""


class TaxonomyMissingError(RecommenderError):
    pass


class EmptyGoalError(RecommenderError):
    pass


class InvalidRequestError(RecommenderError):
    """A goal, skill list or k outside the bounds the recommender serves (`api.check_request`)."""
