/* The list query of GET /api/todos: its query parameters checked into a
 * struct todos_query, and that struct turned into statement text made of
 * the fixed fragments below, with every value left to a bound '?'. */
#include "todos_query.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "http.h"
#include "util.h"

#define OFFSET_MAX INT64_MAX

enum param { P_COMPLETED, P_PRIORITY, P_Q, P_SORT, P_LIMIT, P_OFFSET, P_MAX };

static const char *const param_names[P_MAX] = {
	[P_COMPLETED] = "completed",
	[P_PRIORITY] = "priority",
	[P_Q] = "q",
	[P_SORT] = "sort",
	[P_LIMIT] = "limit",
	[P_OFFSET] = "offset",
};

#define PRIORITY_MAX 3

/* Index is the rank stored in the priority column. */
static const char *const priority_names[PRIORITY_MAX] = {"low", "normal",
							 "high"};

/* The fragments are macros so that the longest text can be checked
 * against TQ_SQL_MAX at compile time (below). */
#define SQL_PAGE_HEAD "SELECT " TQ_TODO_COLUMNS ", "
/* The total: counted over the rows only for q; else summed from the
 * per-user counts the triggers of sql/003 keep, O(1) in the todos. */
#define SQL_TOTAL_ROWS "(SELECT COUNT(*) FROM todos WHERE "
#define SQL_TOTAL_COUNTS \
	"(SELECT CAST(COALESCE(SUM(n), 0) AS SIGNED) FROM todo_counts WHERE "
#define SQL_PAGE_FROM ") FROM todos"
#define SQL_PAGE_WHERE " WHERE "
#define SQL_PAGE_ORDER " ORDER BY "
#define SQL_PAGE_TAIL " LIMIT ? OFFSET ?"
#define SQL_COUNT_HEAD "SELECT COUNT(*) FROM todos WHERE "
#define SQL_COUNT_COUNTS \
	"SELECT CAST(COALESCE(SUM(n), 0) AS SIGNED) FROM todo_counts WHERE "
#define SQL_W_USER "user_id = ?"
#define SQL_W_COMPLETED " AND completed = ?"
#define SQL_W_PRIORITY " AND priority = ?"
#define SQL_W_Q \
	" AND (title LIKE ? ESCAPE '!' OR description LIKE ? ESCAPE '!')"

#define SQL_O_CREATED_ASC "created_at ASC, id ASC"
#define SQL_O_CREATED_DESC "created_at DESC, id DESC"
/* Todos without a due date come last in both directions. */
#define SQL_O_DUE_ASC "due_at IS NULL, due_at ASC, id ASC"
#define SQL_O_DUE_DESC "due_at IS NULL, due_at DESC, id DESC"
#define SQL_O_PRIORITY_ASC "priority ASC, id ASC"
#define SQL_O_PRIORITY_DESC "priority DESC, id DESC"
#define SQL_O_TITLE_ASC "title ASC, id ASC"
#define SQL_O_TITLE_DESC "title DESC, id DESC"

/* The index a page is read through, named where one index is the best
 * plan whatever the data: without a filter, the sort's own index (for due
 * dates the primary key: the order puts NULLs last, which no index holds,
 * so every row of the user is sorted anyway); with only completed and the
 * default order, the index on both. Left to itself, MariaDB weighs the six
 * indexes that start with user_id on every execute, a sixth of its CPU
 * for a page (docs/performance.md, "MariaDB alone"). Any other page, and
 * every q search, is left to the optimizer. */
#define SQL_HINT_CREATED " FORCE INDEX (todos_user_created)"
#define SQL_HINT_COMPLETED_CREATED " FORCE INDEX (todos_user_completed_created)"
#define SQL_HINT_DUE " FORCE INDEX (PRIMARY)"
#define SQL_HINT_PRIORITY " FORCE INDEX (todos_user_priority)"
#define SQL_HINT_TITLE " FORCE INDEX (todos_user_title)"

static const struct {
	const char *name;
	const char *asc, *desc;
	const char *hint; /* without a filter */
} sorts[TQ_SORT_MAX] = {
	[TQ_SORT_CREATED] = {"createdAt", SQL_O_CREATED_ASC, SQL_O_CREATED_DESC,
			     SQL_HINT_CREATED},
	[TQ_SORT_DUE] = {"dueAt", SQL_O_DUE_ASC, SQL_O_DUE_DESC, SQL_HINT_DUE},
	[TQ_SORT_PRIORITY] = {"priority", SQL_O_PRIORITY_ASC,
			      SQL_O_PRIORITY_DESC, SQL_HINT_PRIORITY},
	[TQ_SORT_TITLE] = {"title", SQL_O_TITLE_ASC, SQL_O_TITLE_DESC,
			   SQL_HINT_TITLE},
};

#define LEN(lit) (sizeof(lit) - 1)
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define SQL_O_LEN_MAX                                                      \
	MAX2(MAX2(MAX2(LEN(SQL_O_CREATED_ASC), LEN(SQL_O_CREATED_DESC)),   \
		  MAX2(LEN(SQL_O_DUE_ASC), LEN(SQL_O_DUE_DESC))),          \
	     MAX2(MAX2(LEN(SQL_O_PRIORITY_ASC), LEN(SQL_O_PRIORITY_DESC)), \
		  MAX2(LEN(SQL_O_TITLE_ASC), LEN(SQL_O_TITLE_DESC))))
#define SQL_W_LEN_MAX                                                   \
	(LEN(SQL_W_USER) + LEN(SQL_W_COMPLETED) + LEN(SQL_W_PRIORITY) + \
	 LEN(SQL_W_Q))

/* The page is the longer kind: every filter, twice, and the longest
 * order; the NUL must fit as well. */
_Static_assert(LEN(SQL_PAGE_HEAD) +
			       MAX2(LEN(SQL_TOTAL_ROWS),
				    LEN(SQL_TOTAL_COUNTS)) +
			       2 * SQL_W_LEN_MAX + LEN(SQL_PAGE_FROM) +
			       LEN(SQL_HINT_COMPLETED_CREATED) +
			       LEN(SQL_PAGE_WHERE) + LEN(SQL_PAGE_ORDER) +
			       SQL_O_LEN_MAX + LEN(SQL_PAGE_TAIL) <
		       TQ_SQL_MAX,
	       "the longest statement text must fit TQ_SQL_MAX");
_Static_assert(MAX2(LEN(SQL_COUNT_HEAD), LEN(SQL_COUNT_COUNTS)) +
			       SQL_W_LEN_MAX <
		       TQ_SQL_MAX,
	       "the longest count text must fit TQ_SQL_MAX");
/* user, completed, priority and the pattern twice, all of it twice, then
 * limit and offset. */
_Static_assert(2 * 5 + 2 <= TQ_VALUES_MAX, "the values must fit");

static int param_of(const struct query_param *p);
static bool equals(const char *s, size_t len, const char *lit);
static int refuse(struct tq_error *err, const char *field, const char *msg);
static int like_pattern(struct arena *a, const char *q, size_t len,
			const char **ret, size_t *ret_len);
static int parse_one(struct arena *a, enum param which, const char *v,
		     size_t vl, struct todos_query *q, struct tq_error *err);
static int append(struct tq_statement *st, const char *frag);
static int push_int(struct tq_statement *st, long long v);
static int push_str(struct tq_statement *st, const char *s, size_t len);
static int build_where(struct tq_statement *st, const struct todos_query *q,
		       long long uid);
static const char *page_hint(const struct todos_query *q);

/* The parameter p names, or -1. Keys are decoded bytes, so the length is
 * compared as well as the text. */
static int
param_of(const struct query_param *p)
{
	for (int i = 0; i < P_MAX; i++)
		if (equals(p->key, p->key_len, param_names[i]))
			return i;
	return -1;
}

static bool
equals(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static int
refuse(struct tq_error *err, const char *field, const char *msg)
{
	if (!msg)
		return -ENOMEM;
	err->field = field;
	err->message = msg;
	return -EINVAL;
}

/* '%' + q with LIKE's metacharacters escaped by '!' + '%'. */
static int
like_pattern(struct arena *a, const char *q, size_t len, const char **ret,
	     size_t *ret_len)
{
	char *out;
	size_t o = 0;

	if (len > (SIZE_MAX - 3) / 2)
		return -ENOMEM;
	out = arena_alloc(a, len * 2 + 3);
	if (!out)
		return -ENOMEM;
	out[o++] = '%';
	for (size_t i = 0; i < len; i++) {
		if (q[i] == '%' || q[i] == '_' || q[i] == '!')
			out[o++] = '!';
		out[o++] = q[i];
	}
	out[o++] = '%';
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return 0;
}

/* Checks one present, well-encoded parameter into q. */
static int
parse_one(struct arena *a, enum param which, const char *v, size_t vl,
	  struct todos_query *q, struct tq_error *err)
{
	const char *name = param_names[which];

	switch (which) {
	case P_COMPLETED:
		if (equals(v, vl, "true"))
			q->completed = true;
		else if (equals(v, vl, "false"))
			q->completed = false;
		else
			return refuse(err, name,
				      "completed must be true or false.");
		q->has_completed = true;
		return 0;
	case P_PRIORITY:
		for (int i = 0; i < PRIORITY_MAX; i++)
			if (equals(v, vl, priority_names[i])) {
				q->priority = i;
				q->has_priority = true;
				return 0;
			}
		return refuse(err, name,
			      "priority must be one of low, normal, high.");
	case P_Q: {
		long n = utf8_count(v, vl);

		if (n < 0 || n > TQ_Q_MAX || memchr(v, '\0', vl))
			return refuse(
				err, name,
				"q must be valid UTF-8 of at most 200 characters.");
		/* An empty q filters nothing (but still counts as given). */
		if (vl == 0)
			return 0;
		if (like_pattern(a, v, vl, &q->like, &q->like_len) < 0)
			return -ENOMEM;
		q->has_q = true;
		return 0;
	}
	case P_SORT: {
		bool desc = vl > 0 && v[0] == '-';
		size_t skip = desc ? 1 : 0;

		for (int i = 0; i < TQ_SORT_MAX; i++)
			if (equals(v + skip, vl - skip, sorts[i].name)) {
				q->sort = (enum tq_sort)i;
				q->desc = desc;
				return 0;
			}
		return refuse(err, name,
			      "sort must be one of createdAt, dueAt, priority, "
			      "title, optionally prefixed by '-'.");
	}
	case P_LIMIT:
		if (parse_uint(v, vl, TQ_LIMIT_MAX, &q->limit) < 0 ||
		    q->limit < 1)
			return refuse(
				err, name,
				"limit must be an integer from 1 to 200.");
		return 0;
	case P_OFFSET:
		if (parse_uint(v, vl, OFFSET_MAX, &q->offset) < 0)
			return refuse(err, name,
				      "offset must be a non-negative integer.");
		return 0;
	case P_MAX: break;
	}
	return -EINVAL;
}

int
todos_query_parse(struct arena *a, const struct query_param *qp, size_t n,
		  struct todos_query *ret, struct tq_error *ret_err)
{
	struct todos_query q = {
		.sort = TQ_SORT_CREATED,
		.desc = true,
		.limit = TQ_LIMIT_DEFAULT,
		.offset = 0,
	};
	struct tq_error err = {NULL, NULL};
	bool seen[P_MAX] = {0};
	int rc;

	for (size_t i = 0; i < n; i++) {
		int which = param_of(&qp[i]);
		const char *name;

		if (which < 0)
			continue; /* unknown parameters are ignored */
		name = param_names[which];
		/* Bad encoding is reported before a repetition, as the
		 * service always has. */
		if (!qp[i].value) {
			rc = refuse(&err, name,
				    arena_printf(a,
						 "%s is not well-formed (bad "
						 "percent-encoding).",
						 name));
			goto fail;
		}
		if (seen[which]) {
			rc = refuse(&err, name,
				    arena_printf(a,
						 "%s is given more than once.",
						 name));
			goto fail;
		}
		seen[which] = true;
		rc = parse_one(a, (enum param)which, qp[i].value,
			       qp[i].value_len, &q, &err);
		if (rc < 0)
			goto fail;
	}
	*ret = q;
	return 0;
fail:
	if (rc == -EINVAL)
		*ret_err = err;
	return rc;
}

/* Appends a fixed fragment; the text stays NUL-terminated either way. */
static int
append(struct tq_statement *st, const char *frag)
{
	size_t len = strlen(frag);

	if (len >= TQ_SQL_MAX - st->sql_len)
		return -ENOSPC;
	memcpy(st->sql + st->sql_len, frag, len + 1);
	st->sql_len += len;
	return 0;
}

static int
push_int(struct tq_statement *st, long long v)
{
	if (st->nvalues >= TQ_VALUES_MAX)
		return -ENOSPC;
	st->values[st->nvalues].type = TQ_INT;
	st->values[st->nvalues++].i = v;
	return 0;
}

static int
push_str(struct tq_statement *st, const char *s, size_t len)
{
	if (st->nvalues >= TQ_VALUES_MAX)
		return -ENOSPC;
	st->values[st->nvalues].type = TQ_STR;
	st->values[st->nvalues].s = s;
	st->values[st->nvalues++].len = len;
	return 0;
}

/* The filter: its text and, in the same order, its values. */
static int
build_where(struct tq_statement *st, const struct todos_query *q, long long uid)
{
	int rc;

	if ((rc = append(st, SQL_W_USER)) < 0 || (rc = push_int(st, uid)) < 0)
		return rc;
	if (q->has_completed && ((rc = append(st, SQL_W_COMPLETED)) < 0 ||
				 (rc = push_int(st, q->completed ? 1 : 0)) < 0))
		return rc;
	if (q->has_priority && ((rc = append(st, SQL_W_PRIORITY)) < 0 ||
				(rc = push_int(st, q->priority)) < 0))
		return rc;
	if (q->has_q && ((rc = append(st, SQL_W_Q)) < 0 ||
			 (rc = push_str(st, q->like, q->like_len)) < 0 ||
			 (rc = push_str(st, q->like, q->like_len)) < 0))
		return rc;
	return 0;
}

/* The index hint of q's page (see sorts[]), or "". */
static const char *
page_hint(const struct todos_query *q)
{
	if (q->has_q || q->has_priority)
		return "";
	if (q->has_completed)
		return q->sort == TQ_SORT_CREATED ? SQL_HINT_COMPLETED_CREATED
						  : "";
	return sorts[q->sort].hint;
}

int
todos_query_build(const struct todos_query *q, long long uid, enum tq_kind kind,
		  struct tq_statement *ret)
{
	/* Built aside and copied out only when complete, so that *ret is
	 * untouched on failure; zeroed so that two builds of the same query
	 * are equal to the last byte. */
	struct tq_statement st;
	int rc;

	if ((unsigned)q->sort >= TQ_SORT_MAX || (unsigned)kind >= TQ_KIND_MAX ||
	    (q->has_q && !q->like))
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	if (kind == TQ_COUNT) {
		if ((rc = append(&st, q->has_q ? SQL_COUNT_HEAD
					       : SQL_COUNT_COUNTS)) < 0 ||
		    (rc = build_where(&st, q, uid)) < 0)
			return rc;
	} else {
		/* One round trip for the page and its total: the total is an
		 * uncorrelated subquery (evaluated once, over the same index
		 * range), not COUNT(*) OVER(), which would sort the whole
		 * filtered set. */
		if ((rc = append(&st, SQL_PAGE_HEAD)) < 0 ||
		    (rc = append(&st, q->has_q ? SQL_TOTAL_ROWS
					       : SQL_TOTAL_COUNTS)) < 0 ||
		    (rc = build_where(&st, q, uid)) < 0 ||
		    (rc = append(&st, SQL_PAGE_FROM)) < 0 ||
		    (rc = append(&st, page_hint(q))) < 0 ||
		    (rc = append(&st, SQL_PAGE_WHERE)) < 0 ||
		    (rc = build_where(&st, q, uid)) < 0 ||
		    (rc = append(&st, SQL_PAGE_ORDER)) < 0 ||
		    (rc = append(&st, q->desc ? sorts[q->sort].desc
					      : sorts[q->sort].asc)) < 0 ||
		    (rc = append(&st, SQL_PAGE_TAIL)) < 0 ||
		    (rc = push_int(&st, q->limit)) < 0 ||
		    (rc = push_int(&st, q->offset)) < 0)
			return rc;
	}
	*ret = st;
	return 0;
}
