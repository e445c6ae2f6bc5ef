from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.models import MAX_DB_INT, ChatRequest, TaskCreate, UserLogin


@pytest.mark.parametrize(
    ("model", "values", "field"),
    [
        (ChatRequest, {"message": "hi\x00"}, "message"),
        (ChatRequest, {"message": "hi\ud800"}, "message"),
        (ChatRequest, {"message": "hi", "conversation_id": MAX_DB_INT + 1}, "conversation_id"),
        (ChatRequest, {"message": "hi", "conversation_id": 0}, "conversation_id"),
        (UserLogin, {"email": "a@example.com", "password": "\udc00"}, "password"),
        (TaskCreate, {"title": "x", "tags": ["\x00"]}, "tags"),
    ],
)
def test_input_the_database_cannot_store_is_a_validation_error(
    model: type[Any], values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(values)
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


def test_full_surrogate_pairs_and_other_control_characters_are_text() -> None:
    task = TaskCreate.model_validate({"title": "emoji \U0001f600 tab\there", "tags": ["\u00e9"]})
    assert task.title == "emoji \U0001f600 tab\there"
