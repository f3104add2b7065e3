/* The /api/todos routes: user-scoped CRUD, list filters, ETags and
 * idempotent creates. Ownership is part of every SQL statement. */
#ifndef TODOD_TODOS_H
#define TODOD_TODOS_H

struct request;

int todos_list(struct request *r);
int todos_create(struct request *r);
int todos_get(struct request *r);
int todos_replace(struct request *r);
int todos_patch(struct request *r);
int todos_delete(struct request *r);

#endif
