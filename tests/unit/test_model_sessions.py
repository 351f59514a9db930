"""PynamoDB's connections (one per model) share botocore's loader: the service descriptions are
read from JSON once per process, not once for every table a cold start touches."""

from __future__ import annotations

from chalicelib.models import Generation, Statement, UserProfile


def test_every_models_connection_reads_botocore_descriptions_through_one_loader() -> None:
    loaders = {
        id(model._get_connection().connection.session.get_component("data_loader"))
        for model in (UserProfile, Generation, Statement)
    }
    assert len(loaders) == 1
