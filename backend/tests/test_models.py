from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.models import MAX_DB_INT, ChatRequest, TaskCreate, TaskUpdate, UserCreate, UserLogin


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


# What the OpenAPI document says of a field is what validation does: schemathesis' checks that
# valid data is accepted and invalid data refused (fuzz/) hold the two together.


def test_the_longest_email_accepted_is_the_longest_declared() -> None:
    longest = UserCreate.model_json_schema()["properties"]["email"]["maxLength"]
    domain = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57]) + ".com"
    email = "x@" + domain[: longest - 2]
    assert len(email) == longest
    UserCreate(email=email, password="long enough password")
    with pytest.raises(ValidationError):
        UserCreate(email="x" + email, password="long enough password")


def test_a_task_update_declares_no_null_for_the_fields_that_refuse_it() -> None:
    properties = TaskUpdate.model_json_schema()["properties"]
    for name in ("title", "completed", "priority", "tags"):
        with pytest.raises(ValidationError, match=f"{name} must not be null"):
            TaskUpdate.model_validate({name: None})
        assert "null" not in str(properties[name]), f"{name} declares null: {properties[name]}"
    assert {"type": "null"} in properties["due_date"]["anyOf"]


@pytest.mark.parametrize("model", [TaskCreate, TaskUpdate])
@pytest.mark.parametrize("number", [0, 86400, 1.5])
def test_a_due_date_is_a_date_not_a_number(model: Any, number: float) -> None:
    with pytest.raises(ValidationError, match="due_date"):
        model.model_validate({"title": "t", "due_date": number})


@pytest.mark.parametrize("model", [TaskCreate, TaskUpdate])
@pytest.mark.parametrize("value", [0, 1, "true", "no"])
def test_completed_is_a_boolean_not_a_number_or_string(model: Any, value: object) -> None:
    with pytest.raises(ValidationError, match="completed"):
        model.model_validate({"title": "t", "completed": value})
