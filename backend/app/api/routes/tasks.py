"""Task CRUD, always scoped to the caller: another user's task is simply not found."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BeforeValidator, TypeAdapter

from app import crud
from app.api.deps import (
    CurrentUser,
    ReadEngineDep,
    ResourceId,
    SessionDep,
    SignedClaimsDep,
    TokenCheckedInRoute,
    token_refusal,
    token_user_id,
)
from app.api.errors import CONTENT_TOO_LARGE, NOT_FOUND, UNAUTHORIZED
from app.models import (
    MAX_DB_INT,
    Priority,
    Task,
    TaskCreate,
    TaskPublic,
    TasksPublic,
    TaskUpdate,
    check_storable_text,
)

router = APIRouter(prefix="/tasks", tags=["tasks"], responses=UNAUTHORIZED)

StorableText = BeforeValidator(check_storable_text)

# The serializer FastAPI would use for response_model=TasksPublic, so the bytes are the same.
_TASKS_PUBLIC = TypeAdapter(TasksPublic)


def _get_owned_task(session: SessionDep, user: CurrentUser, task_id: int) -> Task:
    assert user.id is not None
    task = crud.get_task(session, user.id, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Task not found")
    return task


@router.post(
    "", response_model=TaskPublic, status_code=status.HTTP_201_CREATED, responses=CONTENT_TOO_LARGE
)
def create_task(session: SessionDep, user: CurrentUser, task_in: TaskCreate) -> TaskPublic:
    assert user.id is not None
    return TaskPublic.model_validate(crud.create_task(session, user.id, task_in))


def list_tasks(
    engine: ReadEngineDep,
    claims: SignedClaimsDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Search title/description"), StorableText
    ] = None,
    status_: Annotated[crud.Status, Query(alias="status")] = "all",
    priority: Priority | None = None,
    tag: Annotated[str | None, Query(max_length=50), StorableText] = None,
    sort: crud.SortKey = "created",
    order: crud.Order = "desc",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
) -> Response:
    user_id = token_user_id(claims)
    with engine.connect() as connection:
        found = (
            None
            if user_id is None
            else crud.list_task_rows_unless_revoked(
                connection,
                user_id,
                claims.jti,
                q=q,
                status=status_,
                priority=priority,
                tag=tag,
                sort=sort,
                order=order,
                limit=limit,
                offset=offset,
            )
        )
        if found is None:
            raise token_refusal(connection, claims)
    rows, total = found
    # The route answers with its JSON itself: FastAPI would validate the page a second
    # time, in another worker-thread hop, before writing the same bytes.
    page = TasksPublic.model_validate(
        {"items": rows, "total": total, "limit": limit, "offset": offset}
    )
    return Response(_TASKS_PUBLIC.dump_json(page), media_type="application/json")


# The busiest route: the token's check and the page are one query in one worker-thread hop.
router.add_api_route(
    "",
    list_tasks,
    methods=["GET"],
    response_model=TasksPublic,
    route_class_override=TokenCheckedInRoute,
)


@router.get("/{task_id}", response_model=TaskPublic, responses=NOT_FOUND)
def read_task(session: SessionDep, user: CurrentUser, task_id: ResourceId) -> TaskPublic:
    return TaskPublic.model_validate(_get_owned_task(session, user, task_id))


@router.patch("/{task_id}", response_model=TaskPublic, responses={**NOT_FOUND, **CONTENT_TOO_LARGE})
def update_task(
    session: SessionDep, user: CurrentUser, task_id: ResourceId, task_in: TaskUpdate
) -> TaskPublic:
    task = _get_owned_task(session, user, task_id)
    return TaskPublic.model_validate(crud.update_task(session, task, task_in))


@router.post("/{task_id}/toggle", response_model=TaskPublic, responses=NOT_FOUND)
def toggle_task(session: SessionDep, user: CurrentUser, task_id: ResourceId) -> TaskPublic:
    task = _get_owned_task(session, user, task_id)
    return TaskPublic.model_validate(
        crud.update_task(session, task, TaskUpdate(completed=not task.completed))
    )


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_task(session: SessionDep, user: CurrentUser, task_id: ResourceId) -> Response:
    crud.delete_task(session, _get_owned_task(session, user, task_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
