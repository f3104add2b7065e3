/* Unit tests for todos_query.c: the parameters of GET /api/todos parsed
 * from real query strings, and the statement text and values built for
 * every combination of filters, sort key, direction and kind. The expected
 * texts are assembled here from fragments typed again, not taken from the
 * module, so a changed fragment shows up as a failure. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "http.h"
#include "tap.h"
#include "todos_query.h"

#define UID 4242LL
#define NCOMBOS (TQ_FILTER_SETS * TQ_SORT_MAX * 2)

enum { F_COMPLETED = 1, F_PRIORITY = 2, F_Q = 4 };

static struct arena *arena;

static const char *const order_asc[TQ_SORT_MAX] = {
	"created_at ASC, id ASC",
	"due_at IS NULL, due_at ASC, id ASC",
	"priority ASC, id ASC",
	"title ASC, id ASC",
};
static const char *const order_desc[TQ_SORT_MAX] = {
	"created_at DESC, id DESC",
	"due_at IS NULL, due_at DESC, id DESC",
	"priority DESC, id DESC",
	"title DESC, id DESC",
};

/* The index each sort's page names when there is no filter. */
static const char *const sort_index[TQ_SORT_MAX] = {
	"todos_user_created",
	"PRIMARY",
	"todos_user_priority",
	"todos_user_title",
};

static int parse(const char *qs, struct todos_query *ret,
		 struct tq_error *ret_err);
static void refused(const char *qs, const char *field, const char *message);
static void accepted(const char *qs, const char *what);
static void combo_query(int filters, int sort, bool desc,
			struct todos_query *q);
static void expected_where(int filters, char *out, size_t size);
static void expected_sql(int filters, int sort, bool desc, enum tq_kind kind,
			 char *out, size_t size);
static int count_char(const char *s, char c);
static bool values_ok(const struct tq_statement *st, int filters,
		      const struct todos_query *q, enum tq_kind kind);
static void test_defaults(void);
static void test_completed(void);
static void test_priority(void);
static void test_q(void);
static void test_sort(void);
static void test_limit_offset(void);
static void test_errors(void);
static void test_untouched(void);
static void test_literal_texts(void);
static void test_combinations(void);
static void test_build_refused(void);

static int
parse(const char *qs, struct todos_query *ret, struct tq_error *ret_err)
{
	struct query_param *p = NULL;
	size_t n = 0;

	if (http_query_parse(arena, qs, strlen(qs), &p, &n) < 0)
		return -ENOMEM;
	return todos_query_parse(arena, p, n, ret, ret_err);
}

static void
refused(const char *qs, const char *field, const char *message)
{
	struct todos_query q;
	struct tq_error e = {NULL, NULL};
	int rc = parse(qs, &q, &e);

	is_int(rc, -EINVAL, "\"%.60s\" refused", qs);
	is_str(e.field, field, "\"%.60s\": field", qs);
	is_str(e.message, message, "\"%.60s\": message", qs);
}

static void
accepted(const char *qs, const char *what)
{
	struct todos_query q;
	struct tq_error e;

	is_int(parse(qs, &q, &e), 0, "\"%s\" accepted: %s", qs, what);
}

static void
combo_query(int filters, int sort, bool desc, struct todos_query *q)
{
	memset(q, 0, sizeof(*q));
	q->has_completed = filters & F_COMPLETED;
	q->completed = true;
	q->has_priority = filters & F_PRIORITY;
	q->priority = 2;
	q->has_q = filters & F_Q;
	q->like = q->has_q ? "%a!%b%" : NULL;
	q->like_len = q->has_q ? 6 : 0;
	q->sort = (enum tq_sort)sort;
	q->desc = desc;
	q->limit = 17;
	q->offset = 9000000000LL;
}

static void
expected_where(int filters, char *out, size_t size)
{
	snprintf(out, size, "user_id = ?%s%s%s",
		 filters & F_COMPLETED ? " AND completed = ?" : "",
		 filters & F_PRIORITY ? " AND priority = ?" : "",
		 filters & F_Q ? " AND (title LIKE ? ESCAPE '!' OR "
				 "description LIKE ? ESCAPE '!')"
			       : "");
}

static void
expected_sql(int filters, int sort, bool desc, enum tq_kind kind, char *out,
	     size_t size)
{
	char w[256], hint[64] = "";

	/* Without q the total comes from todo_counts (O(1)); with q the
	 * rows are counted. */
	const char *total =
		filters & F_Q ? "COUNT(*) FROM todos"
			      : "CAST(COALESCE(SUM(n), 0) AS SIGNED) FROM "
				"todo_counts";

	expected_where(filters, w, sizeof(w));
	/* The page names its index without a filter, and with completed
	 * alone in the default order; never with q or priority. */
	if (filters == 0)
		snprintf(hint, sizeof(hint), " FORCE INDEX (%s)",
			 sort_index[sort]);
	else if (filters == F_COMPLETED && sort == TQ_SORT_CREATED)
		snprintf(hint, sizeof(hint),
			 " FORCE INDEX (todos_user_completed_created)");
	if (kind == TQ_COUNT)
		snprintf(out, size, "SELECT %s WHERE %s", total, w);
	else
		snprintf(out, size,
			 "SELECT id, title, description, completed, priority,"
			 " due_at, version, created_at, updated_at,"
			 " (SELECT %s WHERE %s)"
			 " FROM todos%s WHERE %s ORDER BY %s LIMIT ? OFFSET ?",
			 total, w, hint, w,
			 desc ? order_desc[sort] : order_asc[sort]);
}

static int
count_char(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* The where values once (count) or twice then limit and offset (page). */
static bool
values_ok(const struct tq_statement *st, int filters,
	  const struct todos_query *q, enum tq_kind kind)
{
	struct tq_value want[TQ_VALUES_MAX];
	int n = 0, nw;

	memset(want, 0, sizeof(want));
	want[n++] = (struct tq_value){TQ_INT, UID, NULL, 0};
	if (filters & F_COMPLETED)
		want[n++] = (struct tq_value){TQ_INT, 1, NULL, 0};
	if (filters & F_PRIORITY)
		want[n++] = (struct tq_value){TQ_INT, 2, NULL, 0};
	if (filters & F_Q) {
		want[n++] = (struct tq_value){TQ_STR, 0, q->like, q->like_len};
		want[n++] = (struct tq_value){TQ_STR, 0, q->like, q->like_len};
	}
	nw = n;
	if (kind == TQ_PAGE) {
		for (int i = 0; i < nw; i++)
			want[n++] = want[i];
		want[n++] = (struct tq_value){TQ_INT, q->limit, NULL, 0};
		want[n++] = (struct tq_value){TQ_INT, q->offset, NULL, 0};
	}
	if (st->nvalues != n)
		return false;
	for (int i = 0; i < n; i++) {
		const struct tq_value *g = &st->values[i], *w = &want[i];

		if (g->type != w->type)
			return false;
		if (g->type == TQ_INT && g->i != w->i)
			return false;
		if (g->type == TQ_STR && (g->s != w->s || g->len != w->len))
			return false;
	}
	return true;
}

static void
test_defaults(void)
{
	struct todos_query q;
	struct tq_error e;

	is_int(parse("", &q, &e), 0, "empty query string accepted");
	ok(!q.has_completed && !q.has_priority && !q.has_q, "no filters");
	ok(q.like == NULL && q.like_len == 0, "no pattern");
	is_int(q.sort, TQ_SORT_CREATED, "default sort createdAt");
	ok(q.desc, "default direction descending");
	is_int(q.limit, TQ_LIMIT_DEFAULT, "default limit");
	is_int(q.limit, 50, "default limit is 50");
	is_int(q.offset, 0, "default offset");

	is_int(parse("foo=1&bar&Limit=0&limit2=0&lim=0&LIMIT=x&q%20=x&%zz=1"
		     "&sort%3D=x&=limit&&",
		     &q, &e),
	       0, "unknown, bad-key and empty parts ignored");
	is_int(q.limit, 50, "limit untouched by near names");
	ok(!q.has_q, "q untouched by near names");
	is_int(parse("x=1&x=2&x=%zz", &q, &e), 0,
	       "unknown parameter twice or badly encoded ignored");
}

static void
test_completed(void)
{
	struct todos_query q;
	struct tq_error e;

	is_int(parse("completed=true", &q, &e), 0, "completed=true");
	ok(q.has_completed && q.completed, "completed true");
	is_int(parse("completed=false", &q, &e), 0, "completed=false");
	ok(q.has_completed && !q.completed, "completed false");
	refused("completed=TRUE", "completed",
		"completed must be true or false.");
	refused("completed=1", "completed", "completed must be true or false.");
	refused("completed=", "completed", "completed must be true or false.");
	refused("completed", "completed", "completed must be true or false.");
	refused("completed=true+", "completed",
		"completed must be true or false.");
	refused("completed=tru", "completed",
		"completed must be true or false.");
}

static void
test_priority(void)
{
	static const char *const names[] = {"low", "normal", "high"};
	struct todos_query q;
	struct tq_error e;
	char qs[64];

	for (int i = 0; i < 3; i++) {
		snprintf(qs, sizeof(qs), "priority=%s", names[i]);
		is_int(parse(qs, &q, &e), 0, "%s", qs);
		ok(q.has_priority, "%s: filter", qs);
		is_int(q.priority, i, "%s: rank", qs);
	}
	refused("priority=Low", "priority",
		"priority must be one of low, normal, high.");
	refused("priority=urgent", "priority",
		"priority must be one of low, normal, high.");
	refused("priority=", "priority",
		"priority must be one of low, normal, high.");
	refused("priority=1", "priority",
		"priority must be one of low, normal, high.");
	refused("priority=highx", "priority",
		"priority must be one of low, normal, high.");
	refused("priority=hig", "priority",
		"priority must be one of low, normal, high.");
}

static void
test_q(void)
{
	static const char msg[] =
		"q must be valid UTF-8 of at most 200 characters.";
	struct todos_query q;
	struct tq_error e;
	char qs[4096];
	size_t o;

	is_int(parse("q=", &q, &e), 0, "empty q accepted");
	ok(!q.has_q && q.like == NULL, "empty q is no filter");
	is_int(parse("q", &q, &e), 0, "bare q accepted");
	ok(!q.has_q, "bare q is no filter");

	is_int(parse("q=milk", &q, &e), 0, "q=milk");
	ok(q.has_q, "q filter");
	ok(q.like_len == 6 && memcmp(q.like, "%milk%", 7) == 0,
	   "pattern %%milk%% (NUL-terminated)");

	is_int(parse("q=50%25_off!+now", &q, &e), 0, "q with %% _ ! space");
	ok(q.like_len == strlen("%50!%!_off!! now%") &&
		   strcmp(q.like, "%50!%!_off!! now%") == 0,
	   "metacharacters escaped by '!': %s", q.like ? q.like : "(null)");
	is_int(parse("q=%25%25", &q, &e), 0, "q=%%%%");
	is_str(q.like, "%!%!%%", "two percents");
	is_int(parse("q=!", &q, &e), 0, "q=!");
	is_str(q.like, "%!!%", "the escape character escaped");
	is_int(parse("q=_", &q, &e), 0, "q=_");
	is_str(q.like, "%!_%", "underscore escaped");
	is_int(parse("q=%27+OR+1%3D1--", &q, &e), 0, "quote in q accepted");
	is_str(q.like, "%' OR 1=1--%", "a quote stays in the value");

	/* 200 characters of two bytes each, raw and percent-encoded. */
	o = (size_t)snprintf(qs, sizeof(qs), "q=");
	for (int i = 0; i < 200; i++)
		o += (size_t)snprintf(qs + o, sizeof(qs) - o, "\xc3\xa9");
	is_int(parse(qs, &q, &e), 0, "q of 200 two-byte characters");
	is_int(q.like_len, 402, "pattern of 400 bytes and two %%");
	snprintf(qs + o, sizeof(qs) - o, "a");
	refused(qs, "q", msg);

	o = (size_t)snprintf(qs, sizeof(qs), "q=");
	for (int i = 0; i < 200; i++)
		o += (size_t)snprintf(qs + o, sizeof(qs) - o,
				      "%%F0%%9F%%98%%80");
	is_int(parse(qs, &q, &e), 0,
	       "q of 200 four-byte characters, percent-encoded");
	is_int(q.like_len, 802, "pattern of 800 bytes and two %%");
	snprintf(qs + o, sizeof(qs) - o, "%%E2%%82%%AC");
	refused(qs, "q", msg);

	/* 200 metacharacters: the limit counts q, not the pattern. */
	o = (size_t)snprintf(qs, sizeof(qs), "q=");
	for (int i = 0; i < 200; i++)
		o += (size_t)snprintf(qs + o, sizeof(qs) - o, "%%25");
	is_int(parse(qs, &q, &e), 0, "q of 200 percents");
	is_int(q.like_len, 402, "each escaped");
	snprintf(qs + o, sizeof(qs) - o, "_");
	refused(qs, "q", msg);

	refused("q=%FF", "q", msg);
	refused("q=%C3", "q", msg);
	refused("q=%C0%AF", "q", msg); /* overlong */
	refused("q=%ED%A0%80", "q", msg); /* surrogate */
	refused("q=%F4%90%80%80", "q", msg); /* above U+10FFFF */
	refused("q=ok%80", "q", msg); /* stray continuation */

	/* http_query_parse never yields a NUL; a caller that does is
	 * refused all the same. */
	{
		struct query_param p = {"q", "a\0b", 1, 3};

		is_int(todos_query_parse(arena, &p, 1, &q, &e), -EINVAL,
		       "q with a NUL refused");
		is_str(e.field, "q", "q with a NUL: field");
		is_str(e.message, msg, "q with a NUL: message");
	}
}

static void
test_sort(void)
{
	static const char *const names[TQ_SORT_MAX] = {"createdAt", "dueAt",
						       "priority", "title"};
	static const char msg[] =
		"sort must be one of createdAt, dueAt, priority, title,"
		" optionally prefixed by '-'.";
	struct todos_query q;
	struct tq_error e;
	char qs[64];

	for (int i = 0; i < TQ_SORT_MAX; i++) {
		snprintf(qs, sizeof(qs), "sort=%s", names[i]);
		is_int(parse(qs, &q, &e), 0, "%s", qs);
		ok(q.sort == (enum tq_sort)i && !q.desc, "%s: ascending", qs);
		snprintf(qs, sizeof(qs), "sort=-%s", names[i]);
		is_int(parse(qs, &q, &e), 0, "%s", qs);
		ok(q.sort == (enum tq_sort)i && q.desc, "%s: descending", qs);
	}
	is_int(parse("sort=%2DdueAt", &q, &e), 0, "encoded '-'");
	ok(q.sort == TQ_SORT_DUE && q.desc, "encoded '-' is descending");
	refused("sort=", "sort", msg);
	refused("sort=-", "sort", msg);
	refused("sort=--createdAt", "sort", msg);
	refused("sort=+createdAt", "sort", msg); /* '+' is a space */
	refused("sort=%2BcreatedAt", "sort", msg);
	refused("sort=created_at", "sort", msg);
	refused("sort=createdat", "sort", msg);
	refused("sort=createdAt-", "sort", msg);
	refused("sort=due", "sort", msg);
	refused("sort=titles", "sort", msg);
}

static void
test_limit_offset(void)
{
	static const char lmsg[] = "limit must be an integer from 1 to 200.";
	static const char omsg[] = "offset must be a non-negative integer.";
	struct todos_query q;
	struct tq_error e;

	is_int(parse("limit=1", &q, &e), 0, "limit=1");
	is_int(q.limit, 1, "limit 1");
	is_int(parse("limit=200", &q, &e), 0, "limit=200");
	is_int(q.limit, 200, "limit 200");
	is_int(parse("limit=01", &q, &e), 0, "limit=01 (parse_uint allows it)");
	is_int(q.limit, 1, "limit 01 is 1");
	refused("limit=0", "limit", lmsg);
	refused("limit=00", "limit", lmsg);
	refused("limit=201", "limit", lmsg);
	refused("limit=-1", "limit", lmsg);
	refused("limit=%2B1", "limit", lmsg);
	refused("limit=+1", "limit", lmsg);
	refused("limit=1.0", "limit", lmsg);
	refused("limit=", "limit", lmsg);
	refused("limit", "limit", lmsg);
	refused("limit=99999999999999999999", "limit", lmsg);

	is_int(parse("offset=0", &q, &e), 0, "offset=0");
	is_int(q.offset, 0, "offset 0");
	is_int(parse("offset=9223372036854775807", &q, &e), 0,
	       "offset INT64_MAX");
	is_int(q.offset, INT64_MAX, "offset is INT64_MAX");
	refused("offset=9223372036854775808", "offset", omsg);
	refused("offset=99999999999999999999", "offset", omsg);
	refused("offset=-1", "offset", omsg);
	refused("offset=", "offset", omsg);
	refused("offset=1e3", "offset", omsg);

	is_int(parse("limit=7&offset=70&sort=title&completed=false&priority="
		     "low&q=x",
		     &q, &e),
	       0, "every parameter at once");
	ok(q.limit == 7 && q.offset == 70 && q.sort == TQ_SORT_TITLE &&
		   !q.desc && q.has_completed && !q.completed &&
		   q.has_priority && q.priority == 0 && q.has_q,
	   "every parameter read");
}

static void
test_errors(void)
{
	static const char *const names[] = {"completed", "priority", "q",
					    "sort",      "limit",    "offset"};
	static const char *const good[] = {"true",      "high", "x",
					   "createdAt", "5",    "5"};
	char qs[128], msg[128];

	for (int i = 0; i < 6; i++) {
		snprintf(qs, sizeof(qs), "%s=%%zz", names[i]);
		snprintf(msg, sizeof(msg),
			 "%s is not well-formed (bad percent-encoding).",
			 names[i]);
		refused(qs, names[i], msg);
		snprintf(qs, sizeof(qs), "%s=%%00", names[i]);
		refused(qs, names[i], msg);
		snprintf(qs, sizeof(qs), "%s=%s&%s=%%4", names[i], good[i],
			 names[i]);
		refused(qs, names[i], msg);

		snprintf(msg, sizeof(msg), "%s is given more than once.",
			 names[i]);
		snprintf(qs, sizeof(qs), "%s=%s&%s=%s", names[i], good[i],
			 names[i], good[i]);
		refused(qs, names[i], msg);
	}
	refused("q=&q=", "q", "q is given more than once.");
	refused("q&q=x", "q", "q is given more than once.");
	/* The first bad parameter decides, in the order given. */
	refused("completed=x&priority=y", "completed",
		"completed must be true or false.");
	refused("priority=y&completed=x", "priority",
		"priority must be one of low, normal, high.");
	refused("limit=0&limit=5", "limit",
		"limit must be an integer from 1 to 200.");
	refused("limit=5&limit=0", "limit", "limit is given more than once.");
	refused("limit=%zz&limit=5", "limit",
		"limit is not well-formed (bad percent-encoding).");
	accepted("limit=5&Limit=0&limit%00=0", "near names");

	/* Keys are matched by length too: a caller could hand a key with
	 * bytes after a NUL. */
	{
		struct query_param p[] = {
			{"limit\0x", "0", 7, 1},
			{"limi", "0", 4, 1},
			{"limit", "9", 5, 1},
		};
		struct todos_query q;
		struct tq_error e;

		is_int(todos_query_parse(arena, p, 3, &q, &e), 0,
		       "keys compared with their length");
		is_int(q.limit, 9, "only the exact key counts");
	}
}

static void
test_untouched(void)
{
	struct todos_query q, q0;
	struct tq_error e, e0;
	struct tq_statement st, st0;

	memset(&q, 0xa5, sizeof(q));
	memcpy(&q0, &q, sizeof(q));
	memset(&e, 0x5a, sizeof(e));
	memcpy(&e0, &e, sizeof(e));
	is_int(parse("limit=0", &q, &e), -EINVAL, "refused");
	ok(memcmp(&q, &q0, sizeof(q)) == 0, "*ret untouched on refusal");
	memset(&e, 0x5a, sizeof(e));
	is_int(parse("limit=3", &q, &e), 0, "accepted");
	ok(memcmp(&e, &e0, sizeof(e)) == 0, "*ret_err untouched on success");

	combo_query(F_Q, TQ_SORT_MAX, false, &q);
	memset(&st, 0x77, sizeof(st));
	memcpy(&st0, &st, sizeof(st));
	is_int(todos_query_build(&q, UID, TQ_PAGE, &st), -EINVAL,
	       "sort out of range refused");
	ok(memcmp(&st, &st0, sizeof(st)) == 0, "statement untouched");
}

static void
test_literal_texts(void)
{
	struct todos_query q;
	struct tq_error e;
	struct tq_statement st;

	is_int(parse("", &q, &e), 0, "defaults");
	is_int(todos_query_build(&q, UID, TQ_PAGE, &st), 0, "default page");
	is_str(st.sql,
	       "SELECT id, title, description, completed, priority, due_at, "
	       "version, created_at, updated_at, (SELECT CAST(COALESCE(SUM(n), "
	       "0) AS SIGNED) FROM todo_counts WHERE user_id = ?) FROM todos "
	       "FORCE INDEX (todos_user_created) WHERE user_id = ? ORDER BY "
	       "created_at DESC, id DESC LIMIT ? OFFSET ?",
	       "default page text");
	ok(st.nvalues == 4 && st.values[0].i == UID && st.values[1].i == UID &&
		   st.values[2].i == 50 && st.values[3].i == 0,
	   "default page values: uid, uid, 50, 0");
	is_int(todos_query_build(&q, UID, TQ_COUNT, &st), 0, "default count");
	is_str(st.sql,
	       "SELECT CAST(COALESCE(SUM(n), 0) AS SIGNED) FROM todo_counts "
	       "WHERE user_id = ?",
	       "default count text: from the counts");
	ok(st.nvalues == 1 && st.values[0].type == TQ_INT &&
		   st.values[0].i == UID,
	   "default count value: uid");

	is_int(parse("completed=false&priority=normal&q=a_b&sort=dueAt&limit="
		     "10&offset=20",
		     &q, &e),
	       0, "every filter");
	is_int(todos_query_build(&q, UID, TQ_PAGE, &st), 0, "filtered page");
	is_str(st.sql,
	       "SELECT id, title, description, completed, priority, due_at, "
	       "version, created_at, updated_at, (SELECT COUNT(*) FROM todos "
	       "WHERE user_id = ? AND completed = ? AND priority = ? AND "
	       "(title LIKE ? ESCAPE '!' OR description LIKE ? ESCAPE '!')) "
	       "FROM todos WHERE user_id = ? AND completed = ? AND priority = "
	       "? AND (title LIKE ? ESCAPE '!' OR description LIKE ? ESCAPE "
	       "'!') ORDER BY due_at IS NULL, due_at ASC, id ASC LIMIT ? "
	       "OFFSET ?",
	       "filtered page text, due dates ascending with NULLs last");
	ok(st.nvalues == 12, "twelve values");
	ok(st.values[1].type == TQ_INT && st.values[1].i == 0 &&
		   st.values[2].type == TQ_INT && st.values[2].i == 1,
	   "completed false is 0, normal is 1");
	ok(st.values[3].type == TQ_STR && st.values[3].len == 6 &&
		   memcmp(st.values[3].s, "%a!_b%", 6) == 0,
	   "the pattern is a value");
	ok(st.values[10].i == 10 && st.values[11].i == 20,
	   "limit and offset last");

	is_int(parse("sort=-dueAt", &q, &e), 0, "-dueAt");
	is_int(todos_query_build(&q, UID, TQ_PAGE, &st), 0, "-dueAt page");
	ok(strstr(st.sql, " ORDER BY due_at IS NULL, due_at DESC, id DESC "
			  "LIMIT ? OFFSET ?") != NULL,
	   "due dates descending, NULLs still last");
}

static void
test_combinations(void)
{
	static char page[NCOMBOS][TQ_SQL_MAX],
		count[TQ_FILTER_SETS][TQ_SQL_MAX];
	const char *texts[NCOMBOS + TQ_FILTER_SETS];
	int ntexts = 0, distinct = 0, dup_page = 0, longest = 0;
	char want[TQ_SQL_MAX * 2];

	for (int f = 0; f < TQ_FILTER_SETS; f++)
		for (int s = 0; s < TQ_SORT_MAX; s++)
			for (int d = 0; d < 2; d++)
				for (int k = 0; k < TQ_KIND_MAX; k++) {
					struct todos_query q;
					struct tq_statement st, again;
					int rc, c = (f * TQ_SORT_MAX + s) * 2 +
						    d;

					combo_query(f, s, d, &q);
					rc = todos_query_build(
						&q, UID, (enum tq_kind)k, &st);
					is_int(rc, 0, "f%d s%d d%d k%d built",
					       f, s, d, k);
					if (rc < 0)
						continue;
					expected_sql(f, s, d, (enum tq_kind)k,
						     want, sizeof(want));
					is_str(st.sql, want,
					       "f%d s%d d%d k%d text", f, s, d,
					       k);
					ok(st.sql_len == strlen(st.sql) &&
						   st.sql_len < TQ_SQL_MAX,
					   "f%d s%d d%d k%d length %zu fits", f,
					   s, d, k, st.sql_len);
					is_int(count_char(st.sql, '?'),
					       st.nvalues,
					       "f%d s%d d%d k%d one value a '?'",
					       f, s, d, k);
					ok(values_ok(&st, f, &q,
						     (enum tq_kind)k),
					   "f%d s%d d%d k%d values in order", f,
					   s, d, k);
					rc = todos_query_build(&q, UID,
							       (enum tq_kind)k,
							       &again);
					ok(rc == 0 &&
						   strcmp(again.sql, st.sql) ==
							   0 &&
						   again.nvalues == st.nvalues,
					   "f%d s%d d%d k%d built twice alike",
					   f, s, d, k);
					if ((int)st.sql_len > longest)
						longest = (int)st.sql_len;
					if (k == TQ_PAGE) {
						memcpy(page[c], st.sql,
						       st.sql_len + 1);
						texts[ntexts++] = page[c];
					} else if (s == 0 && d == 0) {
						memcpy(count[f], st.sql,
						       st.sql_len + 1);
						texts[ntexts++] = count[f];
					} else if (strcmp(st.sql, count[f])) {
						ok(0,
						   "f%d count text depends "
						   "on the sort",
						   f);
					}
				}

	/* Distinct pages for distinct combinations, and the cache size. */
	for (int i = 0; i < NCOMBOS; i++)
		for (int j = i + 1; j < NCOMBOS; j++)
			dup_page += strcmp(page[i], page[j]) == 0;
	is_int(dup_page, 0, "distinct combinations give distinct pages");
	for (int i = 0; i < ntexts; i++) {
		bool seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = strcmp(texts[i], texts[j]) == 0;
		distinct += !seen;
	}
	is_int(ntexts, NCOMBOS + TQ_FILTER_SETS, "every text collected");
	is_int(distinct, TQ_VARIANTS, "TQ_VARIANTS distinct texts");
	ok(longest < TQ_SQL_MAX, "longest text %d < TQ_SQL_MAX", longest);
}

static void
test_build_refused(void)
{
	struct todos_query q;
	struct tq_statement st;

	combo_query(0, 0, true, &q);
	is_int(todos_query_build(&q, UID, TQ_KIND_MAX, &st), -EINVAL,
	       "kind out of range refused");
	combo_query(F_Q, 0, true, &q);
	q.like = NULL;
	is_int(todos_query_build(&q, UID, TQ_COUNT, &st), -EINVAL,
	       "q without a pattern refused");
}

int
main(void)
{
	arena = arena_new(4096);
	if (!arena)
		return 1;
	test_defaults();
	test_completed();
	test_priority();
	test_q();
	test_sort();
	test_limit_offset();
	test_errors();
	test_untouched();
	test_literal_texts();
	test_combinations();
	test_build_refused();
	arena_free(arena);
	return done();
}
