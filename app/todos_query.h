/* The list query of GET /api/todos as pure functions: the query string's
 * parameters parsed into a struct, and that struct turned into statement
 * text (fixed fragments only) with the values to bind. No I/O. */
#ifndef TODOD_TODOS_QUERY_H
#define TODOD_TODOS_QUERY_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct query_param;

#define TQ_LIMIT_DEFAULT 50
#define TQ_LIMIT_MAX 200
#define TQ_Q_MAX 200 /* characters */

/* The columns of one todo, in the order the data layer binds them. */
#define TQ_TODO_COLUMNS                                                 \
	"id, title, description, completed, priority, due_at, version," \
	" created_at, updated_at"

enum tq_sort {
	TQ_SORT_CREATED,
	TQ_SORT_DUE,
	TQ_SORT_PRIORITY,
	TQ_SORT_TITLE,
	TQ_SORT_MAX
};

struct todos_query {
	bool has_completed, has_priority, has_q;
	bool completed;
	int priority; /* rank: 0 low, 1 normal, 2 high */
	const char *like; /* '%' q '%', LIKE metacharacters escaped by '!' */
	size_t like_len;
	enum tq_sort sort;
	bool desc;
	long long limit, offset;
};

/* Why a query string was refused: the parameter and a sentence. */
struct tq_error {
	const char *field;
	const char *message;
};

/* Parses decoded query parameters (http_query_parse). Unknown names are
 * ignored; a known one twice, badly encoded (value NULL) or out of range
 * is refused. The LIKE pattern and messages live in a's memory. Returns 0 with
 * *ret filled, -EINVAL with *ret_err filled, or -ENOMEM. */
int todos_query_parse(struct arena *a, const struct query_param *qp, size_t n,
		      struct todos_query *ret, struct tq_error *ret_err);

enum tq_kind {
	TQ_PAGE, /* TQ_TODO_COLUMNS and the filtered total, LIMIT ? OFFSET ? */
	TQ_COUNT, /* COUNT(*) of the filtered set alone */
	TQ_KIND_MAX
};

/* How many different statement texts todos_query_build can make: the
 * data layer's statement cache is sized from it. */
#define TQ_FILTER_SETS 8 /* completed, priority, q: present or not */
#define TQ_VARIANTS (TQ_FILTER_SETS * TQ_SORT_MAX * 2 + TQ_FILTER_SETS)

enum tq_value_type { TQ_INT, TQ_STR };

struct tq_value {
	enum tq_value_type type;
	long long i; /* TQ_INT */
	const char *s; /* TQ_STR, not NUL-terminated */
	size_t len;
};

#define TQ_VALUES_MAX 12
#define TQ_SQL_MAX 1024

/* A statement: its text and the values for its '?' in order. */
struct tq_statement {
	char sql[TQ_SQL_MAX];
	size_t sql_len;
	struct tq_value values[TQ_VALUES_MAX];
	int nvalues;
};

/* Builds the statement of kind for q over the todos of user uid (the
 * first condition is always user_id = ?). Returns 0 with *ret filled,
 * -EINVAL for a struct no parse makes (sort or kind out of range, has_q
 * without a pattern), or -ENOSPC if the text or the values would not fit
 * (never for a query that todos_query_parse made). */
int todos_query_build(const struct todos_query *q, long long uid,
		      enum tq_kind kind, struct tq_statement *ret);

#endif
