/* session.c - see session.h */
#include "session.h"

#include <stdlib.h>
#include <string.h>

struct session {
	struct store *st;
	const struct script *s;
	struct engine *e;
	int64_t id;
	int closed;
	int said[SCRIPT_MAX_MSGS];  /* seq of the persona lines just stored */
	size_t nsaid;
	int done;                   /* seq of the last turn of the last
				     * committed answer (0: none yet): no
				     * trainee turn up to it waits; -1: not
				     * known (resumed) */
};

/* The turns that may wait for an answer. With done known, only those
 * after it are read: the turns just added. Without, the store walks
 * back to the last answered trainee turn through the previous answer's
 * rows, pages that a hundred other rehearsals' turns have pushed out of
 * SQLite's small cache by then (issue 15: the store's reads per message
 * grew with what it held). Callers look at the trainee turns only. */
static int pending_turns(struct session *ss, struct store_turn **v,
			 size_t *n, struct err *err)
{
	if (ss->done >= 0)
		return store_turns_after(ss->st, ss->id, ss->done, v, n, err);
	return store_turns_pending(ss->st, ss->id, v, n, err);
}

/* After a committed answer to trainee turn seq (0: the opening): its
 * persona lines come after every turn it answered. */
static void answered(struct session *ss, int seq)
{
	ss->done = ss->nsaid && ss->said[ss->nsaid - 1] > seq ?
		   ss->said[ss->nsaid - 1] : seq;
}

static void json_str(struct sbuf *sb, const char *s)
{
	sbuf_addc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			sbuf_addc(sb, '\\');
			sbuf_addc(sb, (char)c);
		} else if (c < 0x20) {
			sbuf_addf(sb, "\\u%04x", c);
		} else {
			sbuf_addc(sb, (char)c);
		}
	}
	sbuf_addc(sb, '"');
}

void session_vars_json(const struct engine *e, struct sbuf *out)
{
	const struct script *s = engine_script(e);

	sbuf_addc(out, '{');
	for (size_t i = 0; i < s->nvars; i++) {
		if (i)
			sbuf_addc(out, ',');
		json_str(out, s->vars[i].name);
		sbuf_addc(out, ':');
		sbuf_addi(out, engine_var(e, i));
	}
	sbuf_addc(out, '}');
}

static void rules_json(const struct script *s, const struct engine_out *o,
		       struct sbuf *out)
{
	sbuf_addc(out, '[');
	for (size_t i = 0; i < o->nrules; i++) {
		if (i)
			sbuf_addc(out, ',');
		json_str(out, s->rules[o->rules[i]].name);
	}
	sbuf_addc(out, ']');
}

/* The words of text a moment quotes (its clause, trimmed), or NULL for
 * the whole message. Caller frees. */
static char *point_quote(const struct engine_point *p, const char *text,
			 size_t len)
{
	size_t a = p->qstart, b = (size_t)p->qstart + p->qlen;

	if (!text || !p->qlen || b > len)
		return NULL;
	while (a < b && (text[a] == ' ' || text[a] == '\n' ||
			 text[a] == '\t' || text[a] == '\r'))
		a++;
	while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\n' ||
			 text[b - 1] == '\t' || text[b - 1] == '\r'))
		b--;
	if (a == b || (a == 0 && b == len))
		return NULL;
	return xstrndup(text + a, b - a);
}

/* Rubric moments (doubt 0) or doubts (1) of one trainee turn, inside
 * store_answer's transaction. */
static int store_moments(struct session *ss, const struct engine_point *v,
			 size_t n, int doubt, const char *text, size_t len,
			 int trainee_seq, struct err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct store_rubric r;
		int added;

		memset(&r, 0, sizeof(r));
		r.session_id = ss->id;
		r.turn_seq = trainee_seq;
		r.point = ss->s->points[v[i].point].id;
		r.shown = v[i].shown;
		r.doubt = doubt;
		r.reason = doubt ? NULL : (char *)v[i].reason;
		r.quote = point_quote(&v[i], text, len);
		added = store_rubric_add(ss->st, &r, err);
		free(r.quote);
		if (added < 0)
			return -1;
	}
	return 0;
}

/* Persona lines, rubric moments, the state and the ending: one
 * transaction, so either all of the answer is stored or none. text is
 * the message the engine answered (NULL at the start): the moments
 * quote their clause of it. */
static int store_answer(struct session *ss, const struct engine_out *o,
			const char *text, size_t len, int trainee_seq,
			struct err *err)
{
	const struct script *s = ss->s;
	const char *node = s->nodes[o->node].name;
	struct sbuf vars, state;
	int rc = -1;

	sbuf_init(&vars);
	sbuf_init(&state);
	session_vars_json(ss->e, &vars);
	if (store_begin(ss->st, err) < 0)
		goto out;
	for (size_t i = 0; i < o->nmsgs; i++) {
		struct store_turn t;

		memset(&t, 0, sizeof(t));
		t.session_id = ss->id;
		t.beurt = engine_beurt(ss->e);
		t.speaker = STORE_PERSONA;
		t.author = s->persona;
		t.text = o->msgs[i].buf;
		t.node = (char *)node;
		t.vars_json = vars.buf;
		if (store_turn_add(ss->st, &t, err) < 0)
			goto fail;
		ss->said[i] = t.seq;
	}
	ss->nsaid = o->nmsgs;
	/* the moments; then what the engine heard but did not record, for
	 * the debrief's "not recognised" list only */
	if (store_moments(ss, o->points, o->npoints, 0, text, len,
			  trainee_seq, err) < 0 ||
	    store_moments(ss, o->doubts, o->ndoubts, 1, text, len,
			  trainee_seq, err) < 0)
		goto fail;
	engine_save(ss->e, &state);
	if (store_session_set_state(ss->st, ss->id, state.buf, err) < 0)
		goto fail;
	if (o->ended && store_session_end(ss->st, ss->id, node,
			script_ending_kind_name(s->nodes[o->node].ending),
			err) < 0)
		goto fail;
	if (store_commit(ss->st, err) < 0)
		goto fail;
	if (o->ended)
		ss->closed = 1;
	rc = 0;
	goto out;
fail:
	store_rollback(ss->st);
out:
	sbuf_release(&vars);
	sbuf_release(&state);
	return rc;
}

int session_begin(struct store *st, const struct script *s, uint64_t seed,
		  const char *trainee, const char *room,
		  struct session **out_ss, struct engine_out *out,
		  struct err *err)
{
	struct session *ss = xcalloc(1, sizeof(*ss));
	struct store_session rec;

	ss->st = st;
	ss->s = s;
	ss->e = engine_new(s, seed);
	ss->done = 0;   /* a new session: no trainee turn yet */
	memset(&rec, 0, sizeof(rec));
	rec.scenario = s->id;
	rec.title = s->title;
	rec.persona = s->persona;
	rec.seed = seed;
	rec.trainee = (char *)trainee;
	rec.room = (char *)room;
	if (store_session_new(st, &rec, err) < 0)
		goto fail;
	ss->id = rec.id;
	if (s->intro && session_notice(ss, s->intro, err) < 0)
		goto fail;
	engine_start(ss->e, out);
	if (store_answer(ss, out, NULL, 0, 0, err) < 0)
		goto fail;
	answered(ss, 0);
	*out_ss = ss;
	return 0;
fail:
	session_free(ss);
	*out_ss = NULL;
	return -1;
}

void session_free(struct session *ss)
{
	if (!ss)
		return;
	engine_free(ss->e);
	free(ss);
}

int session_notice(struct session *ss, const char *text, struct err *err)
{
	struct store_turn t;

	memset(&t, 0, sizeof(t));
	t.session_id = ss->id;
	t.beurt = engine_beurt(ss->e);
	t.speaker = STORE_NOTICE;
	t.text = (char *)text;
	return store_turn_add(ss->st, &t, err);
}

int session_message(struct session *ss, struct match *m, const char *text,
		    size_t len, const char *author, struct engine_out *out,
		    struct err *err)
{
	struct store_turn t;
	struct sbuf rules, vars;
	int rc = -1;

	if (engine_ended(ss->e) || ss->closed) {
		err_set(err, "dit gesprek is al afgelopen");
		return -1;
	}
	memset(&t, 0, sizeof(t));
	t.session_id = ss->id;
	t.beurt = engine_beurt(ss->e) + 1;
	t.speaker = STORE_TRAINEE;
	t.author = (char *)author;
	t.text = (char *)text;
	if (store_turn_add(ss->st, &t, err) < 0)
		return -1;
	if (len > SESSION_MATCH_MAX)
		len = SESSION_MATCH_MAX;
	engine_turn(ss->e, m, text, len, out);
	sbuf_init(&rules);
	sbuf_init(&vars);
	rules_json(ss->s, out, &rules);
	session_vars_json(ss->e, &vars);
	/* the evaluation and the answer in one transaction, as in
	 * session_answer: a turn marked evaluated always has its answer */
	if (store_begin(ss->st, err) < 0)
		goto out;
	if (store_turn_set_eval(ss->st, t.id, ss->s->nodes[out->node].name,
				rules.buf, vars.buf, err) < 0 ||
	    store_answer(ss, out, text, len, t.seq, err) < 0 ||
	    store_commit(ss->st, err) < 0) {
		store_rollback(ss->st);
		goto out;
	}
	answered(ss, t.seq);
	rc = 0;
out:
	sbuf_release(&rules);
	sbuf_release(&vars);
	return rc;
}

int session_stop(struct session *ss, struct err *err)
{
	if (ss->closed)
		return 0;
	if (store_session_end(ss->st, ss->id, "gestopt", "", err) < 0)
		return -1;
	ss->closed = 1;
	return 0;
}

int session_resume(struct store *st, const struct script *s, int64_t id,
		   struct session **out, struct err *err)
{
	struct store_session rec;
	struct session *ss;
	int rc;

	*out = NULL;
	memset(&rec, 0, sizeof(rec));
	rc = store_session_get(st, id, &rec, err);
	if (rc != 0) {
		if (rc > 0)
			err_set(err, "sessie %lld bestaat niet", (long long)id);
		return -1;
	}
	ss = xcalloc(1, sizeof(*ss));
	ss->st = st;
	ss->s = s;
	ss->id = id;
	ss->e = engine_new(s, rec.seed);
	ss->closed = rec.ended_ms != 0;
	ss->done = -1;
	if (rec.state && engine_restore(ss->e, rec.state, err) < 0) {
		store_session_release(&rec);
		session_free(ss);
		return -1;
	}
	store_session_release(&rec);
	*out = ss;
	return 0;
}

int session_log_seq(struct session *ss, const char *speaker,
		    const char *author, const char *text,
		    const char *event_id, int *seq, struct err *err)
{
	struct store_turn t;

	if (event_id) {
		int rc = store_turn_by_event(ss->st, event_id, NULL, NULL, err);

		if (rc <= 0)
			return rc < 0 ? -1 : 1;
	}
	memset(&t, 0, sizeof(t));
	t.session_id = ss->id;
	t.beurt = engine_beurt(ss->e) + (strcmp(speaker, STORE_TRAINEE) == 0);
	t.speaker = (char *)speaker;
	t.author = (char *)author;
	t.text = (char *)text;
	t.event_id = (char *)event_id;
	if (store_turn_add(ss->st, &t, err) < 0)
		return -1;
	if (seq)
		*seq = t.seq;
	return 0;
}

int session_log(struct session *ss, const char *speaker, const char *author,
		const char *text, const char *event_id, struct err *err)
{
	return session_log_seq(ss, speaker, author, text, event_id, NULL, err);
}

/* Trainee turns after the last evaluated one: node is set once the
 * engine has answered them. */
int session_pending(struct session *ss, struct err *err)
{
	struct store_turn *v;
	size_t n, k = 0;

	if (pending_turns(ss, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		k += strcmp(v[i].speaker, STORE_TRAINEE) == 0;
	store_turns_free(v, n);
	return (int)k;
}

int session_answer(struct session *ss, struct match *m,
		   struct engine_out *out, struct err *err)
{
	struct store_turn *v;
	size_t n, last = 0, count = 0, tlen;
	struct sbuf text, rules, vars;
	int rc = -1;

	out->nmsgs = 0;
	out->npoints = 0;
	out->nrules = 0;
	if (ss->closed || engine_ended(ss->e))
		return 0;
	if (pending_turns(ss, &v, &n, err) < 0)
		return -1;
	sbuf_init(&text);
	sbuf_init(&rules);
	sbuf_init(&vars);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].speaker, STORE_TRAINEE) != 0)
			continue;
		if (text.len)
			sbuf_addc(&text, '\n');
		sbuf_adds(&text, v[i].text);
		last = i;
		count++;
	}
	if (!count) {
		rc = 0;
		goto out;
	}
	tlen = text.len > SESSION_MATCH_MAX ? SESSION_MATCH_MAX : text.len;
	engine_turn(ss->e, m, text.buf, tlen, out);
	rules_json(ss->s, out, &rules);
	session_vars_json(ss->e, &vars);
	if (store_begin(ss->st, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].speaker, STORE_TRAINEE) != 0)
			continue;
		if (store_turn_set_eval(ss->st, v[i].id,
					ss->s->nodes[out->node].name,
					i == last ? rules.buf : "[]",
					vars.buf, err) < 0) {
			store_rollback(ss->st);
			goto out;
		}
	}
	if (store_answer(ss, out, text.buf, tlen, v[last].seq, err) < 0) {
		store_rollback(ss->st);
		goto out;
	}
	if (store_commit(ss->st, err) < 0) {
		store_rollback(ss->st);
		goto out;
	}
	/* committed, or part of an outer transaction: a rollback of that
	 * reloads the rooms and so resumes this session afresh */
	answered(ss, v[last].seq);
	rc = 0;
out:
	store_turns_free(v, n);
	sbuf_release(&text);
	sbuf_release(&rules);
	sbuf_release(&vars);
	return rc;
}

const int *session_said(const struct session *ss, size_t *n)
{
	*n = ss->nsaid;
	return ss->said;
}

const struct script *session_script(const struct session *ss)
{
	return ss->s;
}

int64_t session_id(const struct session *ss)
{
	return ss->id;
}

struct engine *session_engine(struct session *ss)
{
	return ss->e;
}

int session_ended(const struct session *ss)
{
	return ss->closed || engine_ended(ss->e);
}
