/* The route table: every route of the HTTP contract, in one place. */
#include "routes.h"

#include "auth.h"
#include "health.h"
#include "metrics.h"
#include "todos.h"

static const struct route routes[] = {
	{HTTP_GET, "/api/health", health_get, ROUTE_NOSTORE},
	{HTTP_GET, "/api/metrics", metrics_get, ROUTE_NOSTORE},
	{HTTP_POST, "/api/auth/sign-up/email", auth_sign_up, ROUTE_NOSTORE},
	{HTTP_POST, "/api/auth/sign-in/email", auth_sign_in, ROUTE_NOSTORE},
	{HTTP_POST, "/api/auth/sign-out", auth_sign_out, ROUTE_NOSTORE},
	{HTTP_GET, "/api/auth/get-session", auth_get_session, ROUTE_NOSTORE},
	{HTTP_GET, "/api/auth/token", auth_token, ROUTE_NOSTORE},
	{HTTP_POST, "/api/auth/change-password", auth_change_password,
	 ROUTE_AUTH | ROUTE_NOSTORE},
	{HTTP_POST, "/api/auth/update-user", auth_update_user,
	 ROUTE_AUTH | ROUTE_NOSTORE},
	{HTTP_POST, "/api/auth/delete-user", auth_delete_user,
	 ROUTE_AUTH | ROUTE_NOSTORE},
	{HTTP_POST, "/api/auth/revoke-sessions", auth_revoke_sessions,
	 ROUTE_AUTH | ROUTE_NOSTORE},
	{HTTP_GET, "/api/todos", todos_list, ROUTE_AUTH | ROUTE_PRIVATE},
	{HTTP_POST, "/api/todos", todos_create,
	 ROUTE_AUTH | ROUTE_PRIVATE | ROUTE_REPLAY},
	{HTTP_GET, "/api/todos/:id", todos_get, ROUTE_AUTH | ROUTE_PRIVATE},
	{HTTP_PUT, "/api/todos/:id", todos_replace,
	 ROUTE_AUTH | ROUTE_PRIVATE | ROUTE_REPLAY},
	{HTTP_PATCH, "/api/todos/:id", todos_patch,
	 ROUTE_AUTH | ROUTE_PRIVATE | ROUTE_REPLAY},
	{HTTP_DELETE, "/api/todos/:id", todos_delete,
	 ROUTE_AUTH | ROUTE_PRIVATE},
};

const struct route *
routes_table(void)
{
	return routes;
}

size_t
routes_count(void)
{
	return sizeof(routes) / sizeof(routes[0]);
}
