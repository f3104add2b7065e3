/* Fuzzes todos_query_parse and todos_query_build behind http_query_parse,
 * as GET /api/todos runs them: whatever the query string, an accepted
 * query is in range, its pattern is q escaped, and its statement text is
 * made of fixed fragments only (nothing of q reaches the text), with one
 * value per '?', the same on every build. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "arena.h"
#include "http.h"
#include "todos_query.h"
#include "util.h"

#define UID 7LL

static struct arena *arena;

static const char *const names[] = {"completed", "priority", "q",
				    "sort",      "limit",    "offset"};

int LLVMFuzzerInitialize(int *argc, char ***argv);
static const struct query_param *find(const struct query_param *p, size_t n,
				      const char *key);
static void check_error(const struct tq_error *e);
static void check_like(const struct todos_query *q,
		       const struct query_param *qv);
static size_t count(const char *s, const char *needle);
static void check_text(const struct tq_statement *st);
static void check_statement(const struct todos_query *q, enum tq_kind kind);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena = arena_new(4096);
	if (!arena)
		abort();
	return 0;
}

/* The first parameter named key, matched as todos_query_parse does. */
static const struct query_param *
find(const struct query_param *p, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].key_len == strlen(key) &&
		    memcmp(p[i].key, key, p[i].key_len) == 0)
			return &p[i];
	return NULL;
}

static void
check_error(const struct tq_error *e)
{
	bool known = false;

	CHECK(e->field != NULL && e->message != NULL);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		known |= strcmp(e->field, names[i]) == 0;
	CHECK(known);
	CHECK(strncmp(e->message, e->field, strlen(e->field)) == 0);
}

/* The pattern is '%' q '%' with each of % _ ! preceded by '!'. */
static void
check_like(const struct todos_query *q, const struct query_param *qv)
{
	size_t o = 1;

	CHECK(qv != NULL && qv->value != NULL);
	if (!q->has_q) {
		CHECK(qv->value_len == 0 && q->like == NULL);
		return;
	}
	CHECK(qv->value_len > 0);
	CHECK(utf8_count(qv->value, qv->value_len) <= TQ_Q_MAX);
	CHECK(q->like != NULL && q->like_len >= qv->value_len + 2);
	CHECK(q->like[q->like_len] == '\0');
	CHECK(q->like[0] == '%' && q->like[q->like_len - 1] == '%');
	for (size_t i = 0; i < qv->value_len; i++) {
		char c = qv->value[i];

		if (c == '%' || c == '_' || c == '!')
			CHECK(q->like[o++] == '!');
		CHECK(q->like[o++] == c);
	}
	CHECK(o == q->like_len - 1);
}

static size_t
count(const char *s, const char *needle)
{
	size_t n = 0, len = strlen(needle);

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += len)
		n++;
	return n;
}

/* Nothing of a value can be in the text: no '%' (every pattern has two),
 * and the only quotes and '!' are those of ESCAPE '!'. The characters
 * are those of the fragments. */
static void
check_text(const struct tq_statement *st)
{
	size_t escapes = count(st->sql, "ESCAPE '!'"), qm = 0;

	CHECK(st->sql_len < TQ_SQL_MAX);
	CHECK(strlen(st->sql) == st->sql_len);
	CHECK(strchr(st->sql, '%') == NULL);
	CHECK(count(st->sql, "'") == 2 * escapes);
	CHECK(count(st->sql, "!") == escapes);
	for (size_t i = 0; i < st->sql_len; i++) {
		char c = st->sql[i];

		CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == '_' || c == ' ' || c == ',' || c == '(' ||
		      c == ')' || c == '*' || c == '?' || c == '=' ||
		      c == '\'' || c == '!' || c == '0');
		qm += c == '?';
	}
	CHECK(st->nvalues >= 0 && st->nvalues <= TQ_VALUES_MAX);
	CHECK(qm == (size_t)st->nvalues);
	CHECK(strncmp(st->sql, "SELECT ", 7) == 0);
}

static void
check_statement(const struct todos_query *q, enum tq_kind kind)
{
	static struct tq_statement st, again, other;
	struct todos_query q2 = *q;
	int nwhere = 1 + q->has_completed + q->has_priority + 2 * q->has_q;

	CHECK(todos_query_build(q, UID, kind, &st) == 0);
	check_text(&st);
	CHECK(st.values[0].type == TQ_INT && st.values[0].i == UID);
	CHECK(st.nvalues == (kind == TQ_PAGE ? 2 * nwhere + 2 : nwhere));
	for (int i = 0; i < st.nvalues; i++) {
		const struct tq_value *v = &st.values[i];

		if (v->type == TQ_STR)
			CHECK(q->has_q && v->s == q->like &&
			      v->len == q->like_len);
		else
			CHECK(v->type == TQ_INT);
	}
	if (kind == TQ_PAGE) {
		CHECK(st.values[st.nvalues - 2].i == q->limit);
		CHECK(st.values[st.nvalues - 1].i == q->offset);
	}

	CHECK(todos_query_build(q, UID, kind, &again) == 0);
	CHECK(again.sql_len == st.sql_len &&
	      memcmp(again.sql, st.sql, sizeof(st.sql)) == 0);
	CHECK(again.nvalues == st.nvalues);
	for (int i = 0; i < st.nvalues; i++)
		CHECK(again.values[i].type == st.values[i].type &&
		      again.values[i].i == st.values[i].i &&
		      again.values[i].s == st.values[i].s &&
		      again.values[i].len == st.values[i].len);

	/* The text depends on which filters are present, never on values. */
	q2.completed = !q2.completed;
	q2.priority = (q2.priority + 1) % 3;
	q2.like = q2.has_q ? "%x%" : NULL;
	q2.like_len = q2.has_q ? 3 : 0;
	q2.limit = 1;
	q2.offset = 0;
	CHECK(todos_query_build(&q2, UID + 1, kind, &other) == 0);
	CHECK(other.sql_len == st.sql_len &&
	      memcmp(other.sql, st.sql, sizeof(st.sql)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query_param *params = NULL;
	struct todos_query q;
	struct tq_error e = {NULL, NULL};
	size_t n = 0;
	int rc;

	if (http_query_parse(arena, (const char *)data, size, &params, &n) < 0)
		goto out;
	rc = todos_query_parse(arena, params, n, &q, &e);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	if (rc == -EINVAL)
		check_error(&e);
	if (rc != 0)
		goto out;
	CHECK(q.limit >= 1 && q.limit <= TQ_LIMIT_MAX);
	CHECK(q.offset >= 0);
	CHECK((unsigned)q.sort < TQ_SORT_MAX);
	CHECK(q.priority >= 0 && q.priority <= 2);
	if (!find(params, n, "limit"))
		CHECK(q.limit == TQ_LIMIT_DEFAULT);
	if (!find(params, n, "offset"))
		CHECK(q.offset == 0);
	if (!find(params, n, "sort"))
		CHECK(q.sort == TQ_SORT_CREATED && q.desc);
	CHECK(q.has_completed == (find(params, n, "completed") != NULL));
	CHECK(q.has_priority == (find(params, n, "priority") != NULL));
	if (find(params, n, "q"))
		check_like(&q, find(params, n, "q"));
	else
		CHECK(!q.has_q);
	check_statement(&q, TQ_PAGE);
	check_statement(&q, TQ_COUNT);
out:
	arena_reset(arena);
	return 0;
}
