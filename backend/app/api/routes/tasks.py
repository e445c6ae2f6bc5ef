"""Task CRUD, always scoped to the caller: another user's task is simply not found."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from app import crud
from app.api.deps import CurrentUser, SessionDep
from app.models import Priority, Task, TaskCreate, TaskPublic, TasksPublic, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"])


def _get_owned_task(session: SessionDep, user: CurrentUser, task_id: int) -> Task:
    assert user.id is not None
    task = crud.get_task(session, user.id, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Task not found")
    return task


@router.post("", response_model=TaskPublic, status_code=status.HTTP_201_CREATED)
def create_task(session: SessionDep, user: CurrentUser, task_in: TaskCreate) -> TaskPublic:
    assert user.id is not None
    return TaskPublic.model_validate(crud.create_task(session, user.id, task_in))


@router.get("", response_model=TasksPublic)
def list_tasks(
    session: SessionDep,
    user: CurrentUser,
    q: Annotated[str | None, Query(max_length=200, description="Search title/description")] = None,
    status_: Annotated[crud.Status, Query(alias="status")] = "all",
    priority: Priority | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    sort: crud.SortKey = "created",
    order: crud.Order = "desc",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TasksPublic:
    assert user.id is not None
    items, total = crud.list_tasks(
        session,
        user.id,
        q=q,
        status=status_,
        priority=priority,
        tag=tag,
        sort=sort,
        order=order,
        limit=limit,
        offset=offset,
    )
    return TasksPublic(
        items=[TaskPublic.model_validate(t) for t in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{task_id}", response_model=TaskPublic)
def read_task(session: SessionDep, user: CurrentUser, task_id: int) -> TaskPublic:
    return TaskPublic.model_validate(_get_owned_task(session, user, task_id))


@router.patch("/{task_id}", response_model=TaskPublic)
def update_task(
    session: SessionDep, user: CurrentUser, task_id: int, task_in: TaskUpdate
) -> TaskPublic:
    task = _get_owned_task(session, user, task_id)
    return TaskPublic.model_validate(crud.update_task(session, task, task_in))


@router.post("/{task_id}/toggle", response_model=TaskPublic)
def toggle_task(session: SessionDep, user: CurrentUser, task_id: int) -> TaskPublic:
    task = _get_owned_task(session, user, task_id)
    return TaskPublic.model_validate(
        crud.update_task(session, task, TaskUpdate(completed=not task.completed))
    )


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(session: SessionDep, user: CurrentUser, task_id: int) -> Response:
    crud.delete_task(session, _get_owned_task(session, user, task_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
