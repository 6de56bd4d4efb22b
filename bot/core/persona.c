/* persona.c - see persona.h
 *
 * The only file that talks to jansson about personas. Checks run in a
 * fixed order and stop at the first problem, so a trainer fixes one
 * thing at a time and the message names exactly one field.
 */
#include "persona.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ID_MAX 64          /* bytes in an id */
#define NAME_MAX_BYTES 64  /* "naam" */
#define DISPLAY_MAX 128    /* "weergavenaam", "sectie" */
#define TEXT_MAX 16384     /* "situatie", "spreekstijl", "citaat" */

static const char *const top_keys[] = {
	"id", "naam", "weergavenaam", "rol", "leeftijd", "situatie",
	"spreekstijl", "bronnen", "fictief",
};

static const char *const source_keys[] = { "sectie", "citaat" };

static const char *const role_names[] = {
	[PERSONA_PARENT] = "ouder",
	[PERSONA_YOUTH] = "jongere",
	[PERSONA_CHILD] = "kind",
};

/* Where a check is: the file, for messages, and the id its name
 * promises. */
struct ctx {
	const char *path;
	struct err *err;
	char want_id[ID_MAX + 1];
};

/* path: veld "field"<what>, e.g. what = " ontbreekt" or ": verwacht …". */
static void field_err(const struct ctx *c, const char *field,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void field_err(const struct ctx *c, const char *field,
		      const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf_cut(what, sizeof(what), fmt, ap);
	va_end(ap);
	err_set(c->err, "%s: veld \"%s\"%s", c->path, field, what);
}


static int known(const char *key, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, keys[i]))
			return 1;
	return 0;
}

/* Every key of obj must be in keys; prefix is "" or "bronnen[2].". */
static int check_keys(const struct ctx *c, json_t *obj, const char *prefix,
		      const char *const *keys, size_t nkeys)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char field[160], q[80], allowed[256] = "";

		if (known(key, keys, nkeys))
			continue;
		for (size_t i = 0; i < nkeys; i++) {
			strncat(allowed, i ? ", " : "",
				sizeof(allowed) - strlen(allowed) - 1);
			strncat(allowed, keys[i],
				sizeof(allowed) - strlen(allowed) - 1);
		}
		xsnprintf(field, sizeof(field), "%s%s", prefix,
			 quote_short(key, q, sizeof(q)));
		field_err(c, field, " is onbekend; toegestaan zijn: %s",
			  allowed);
		return -1;
	}
	return 0;
}

/* A required string field: not blank, at most max bytes; multi-line
 * text may hold newlines and tabs; no field may hold other control
 * characters. */
static int get_text(const struct ctx *c, json_t *obj, const char *key,
		    const char *field, size_t max, int multiline,
		    const char **out)
{
	json_t *v = json_object_get(obj, key);
	struct sbuf why;

	if (!v) {
		field_err(c, field, " ontbreekt");
		return -1;
	}
	sbuf_init(&why);
	*out = json_text_check(v, max, multiline, &why);
	if (!*out)
		field_err(c, field, ": %s", sbuf_str(&why));
	sbuf_release(&why);
	return *out ? 0 : -1;
}

static int valid_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		char ch = *s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

/* The id the file name promises: "dir/sandra.json" → "sandra". */
static int id_from_path(struct ctx *c)
{
	char *id = c->want_id;
	size_t cap = sizeof(c->want_id);
	const char *base = strrchr(c->path, '/');
	size_t len;

	base = base ? base + 1 : c->path;
	len = strlen(base);
	if (len <= 5 || strcmp(base + len - 5, ".json")) {
		err_set(c->err, "%s: de bestandsnaam moet <id>.json zijn",
			c->path);
		return -1;
	}
	len -= 5;
	if (len >= cap) {
		err_set(c->err, "%s: de bestandsnaam is te lang (hooguit %zu "
			"tekens voor .json)", c->path, cap - 1);
		return -1;
	}
	memcpy(id, base, len);
	id[len] = '\0';
	return 0;
}

static int check_id(const struct ctx *c, json_t *root, const char **out)
{
	char q[80];
	const char *id;

	if (get_text(c, root, "id", "id", ID_MAX, 0, &id) < 0)
		return -1;
	if (!valid_id(id)) {
		field_err(c, "id", ": \"%s\" mag alleen kleine letters, "
			  "cijfers, - en _ bevatten", quote_short(id, q, sizeof(q)));
		return -1;
	}
	if (strcmp(id, c->want_id)) {
		field_err(c, "id", ": \"%s\" past niet bij de bestandsnaam; "
			  "verwacht \"%s\"", id, c->want_id);
		return -1;
	}
	*out = id;
	return 0;
}

static int check_fictional(const struct ctx *c, json_t *root)
{
	json_t *v = json_object_get(root, "fictief");

	if (!v) {
		field_err(c, "fictief", " ontbreekt; zet \"fictief\": true "
			  "als de persona verzonnen is");
		return -1;
	}
	if (json_is_false(v)) {
		field_err(c, "fictief", ": moet true zijn; een persona is "
			  "altijd verzonnen, nooit een echte cliënt");
		return -1;
	}
	if (!json_is_true(v)) {
		field_err(c, "fictief", ": verwacht true, niet %s",
			  json_type_name(v));
		return -1;
	}
	return 0;
}

static int check_role(const struct ctx *c, json_t *root,
		      enum persona_role *out)
{
	const char *s;
	char q[80];

	if (get_text(c, root, "rol", "rol", DISPLAY_MAX, 0, &s) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(role_names); i++) {
		if (!strcmp(s, role_names[i])) {
			*out = (enum persona_role)i;
			return 0;
		}
	}
	field_err(c, "rol", ": verwacht ouder, jongere of kind, niet \"%s\"",
		  quote_short(s, q, sizeof(q)));
	return -1;
}

static int check_age(const struct ctx *c, json_t *root, int *out)
{
	json_t *v = json_object_get(root, "leeftijd");
	json_int_t age;

	if (!v) {
		field_err(c, "leeftijd", " ontbreekt");
		return -1;
	}
	if (!json_is_integer(v)) {
		field_err(c, "leeftijd", ": verwacht een geheel getal, niet %s",
			  json_type_name(v));
		return -1;
	}
	age = json_integer_value(v);
	if (age < 4 || age > 99) {
		field_err(c, "leeftijd", ": verwacht 4 t/m 99, niet %lld",
			  (long long)age);
		return -1;
	}
	*out = (int)age;
	return 0;
}

static int check_sources(const struct ctx *c, json_t *root,
			 struct persona *p)
{
	json_t *arr = json_object_get(root, "bronnen");
	size_t n;

	if (!arr) {
		field_err(c, "bronnen", " ontbreekt; noem minstens één "
			  "passage uit de factsheet");
		return -1;
	}
	if (!json_is_array(arr)) {
		field_err(c, "bronnen", ": verwacht een lijst [ … ], niet %s",
			  json_type_name(arr));
		return -1;
	}
	n = json_array_size(arr);
	if (n == 0) {
		field_err(c, "bronnen", ": noem minstens één passage uit de "
			  "factsheet");
		return -1;
	}
	if (n > PERSONA_MAX_SOURCES) {
		field_err(c, "bronnen", ": te veel bronnen (%zu, hooguit %d)",
			  n, PERSONA_MAX_SOURCES);
		return -1;
	}
	p->sources = xcalloc(n, sizeof(*p->sources));
	for (size_t i = 0; i < n; i++) {
		json_t *src = json_array_get(arr, i);
		char field[64], prefix[48];
		const char *sec, *quote;

		xsnprintf(prefix, sizeof(prefix), "bronnen[%zu].", i);
		xsnprintf(field, sizeof(field), "bronnen[%zu]", i);
		if (!json_is_object(src)) {
			field_err(c, field, ": verwacht een object { \"sectie\""
				  ": …, \"citaat\": … }, niet %s",
				  json_type_name(src));
			return -1;
		}
		if (check_keys(c, src, prefix, source_keys,
			       ARRAY_LEN(source_keys)) < 0)
			return -1;
		xsnprintf(field, sizeof(field), "bronnen[%zu].sectie", i);
		if (get_text(c, src, "sectie", field, DISPLAY_MAX, 0,
			     &sec) < 0)
			return -1;
		xsnprintf(field, sizeof(field), "bronnen[%zu].citaat", i);
		if (get_text(c, src, "citaat", field, TEXT_MAX, 1,
			     &quote) < 0)
			return -1;
		p->sources[i].section = xstrdup(sec);
		p->sources[i].quote = xstrdup(quote);
		p->nsources = i + 1;
	}
	return 0;
}

/* Fill p from root; stop at the first problem. */
static int persona_check(const struct ctx *c, json_t *root,
			 struct persona *p)
{
	const char *id, *name, *display, *situation, *speech;

	if (!json_is_object(root)) {
		err_set(c->err, "%s: verwacht een object { … } met de velden "
			"van de persona, niet %s", c->path,
			json_type_name(root));
		return -1;
	}
	if (check_keys(c, root, "", top_keys, ARRAY_LEN(top_keys)) < 0 ||
	    check_fictional(c, root) < 0 ||
	    check_id(c, root, &id) < 0 ||
	    get_text(c, root, "naam", "naam", NAME_MAX_BYTES, 0, &name) < 0 ||
	    get_text(c, root, "weergavenaam", "weergavenaam", DISPLAY_MAX, 0,
		     &display) < 0 ||
	    check_role(c, root, &p->role) < 0 ||
	    check_age(c, root, &p->age) < 0 ||
	    get_text(c, root, "situatie", "situatie", TEXT_MAX, 1,
		     &situation) < 0 ||
	    get_text(c, root, "spreekstijl", "spreekstijl", TEXT_MAX, 1,
		     &speech) < 0 ||
	    check_sources(c, root, p) < 0)
		return -1;
	p->id = xstrdup(id);
	p->name = xstrdup(name);
	p->display_name = xstrdup(display);
	p->situation = xstrdup(situation);
	p->speech = xstrdup(speech);
	return 0;
}

/* Read the file, refusing anything but a regular file of sane size. */
static int slurp(const struct ctx *c, char **buf, size_t *len)
{
	struct stat st;
	struct err e;

	if (stat(c->path, &st) < 0) {
		if (errno == ENOENT)
			err_set(c->err, "%s: bestand bestaat niet", c->path);
		else
			err_set(c->err, "%s: kan het bestand niet openen: %s",
				c->path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(c->err, "%s: is geen gewoon bestand", c->path);
		return -1;
	}
	if (st.st_size > PERSONA_MAX_BYTES) {
		err_set(c->err, "%s: bestand is te groot (hooguit %d KiB)",
			c->path, PERSONA_MAX_BYTES / 1024);
		return -1;
	}
	/* read_file enforces the cap again should the file grow */
	if (read_file(c->path, PERSONA_MAX_BYTES, buf, len, &e) < 0) {
		err_set(c->err, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* Parse and check len bytes of JSON for c->path, whose id is known. */
static int load_buf(const struct ctx *c, const char *buf, size_t len,
		    struct persona **out)
{
	struct persona *p = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	int rc = -1;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		err_set(c->err, "%s:%d:%d: ongeldige JSON: %s", c->path,
			jerr.line, jerr.column, jerr.text);
		goto out;
	}
	p = xcalloc(1, sizeof(*p));
	p->path = xstrdup(c->path);
	if (persona_check(c, root, p) < 0)
		goto out;
	*out = p;
	p = NULL;
	rc = 0;
out:
	persona_free(p);
	json_decref(root);
	return rc;
}

int persona_load(const char *path, struct persona **out, struct err *err)
{
	struct ctx c = { path, err, "" };
	char *buf = NULL;
	size_t len;
	int rc = -1;

	if (id_from_path(&c) < 0 || slurp(&c, &buf, &len) < 0)
		goto out;
	rc = load_buf(&c, buf, len, out);
out:
	free(buf);
	return rc;
}

int persona_load_text(const char *name, const char *text, size_t len,
		      struct persona **out, struct err *err)
{
	struct ctx c = { name, err, "" };

	if (id_from_path(&c) < 0)
		return -1;
	if (len > PERSONA_MAX_BYTES) {
		err_set(err, "%s: bestand is te groot (hooguit %d KiB)", name,
			PERSONA_MAX_BYTES / 1024);
		return -1;
	}
	return load_buf(&c, text, len, out);
}

void persona_free(struct persona *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsources; i++) {
		free(p->sources[i].section);
		free(p->sources[i].quote);
	}
	free(p->sources);
	free(p->speech);
	free(p->situation);
	free(p->display_name);
	free(p->name);
	free(p->id);
	free(p->path);
	free(p);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_persona_file(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && !strcmp(name + len - 5, ".json");
}

/* The *.json names in dir, sorted. Caller frees names and array. */
static int list_dir(const char *dir, char ***names, size_t *n,
		    struct err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	int rc = -1;

	*names = NULL;
	*n = 0;
	if (!d) {
		err_set(err, "%s: kan de map niet openen: %s", dir,
			strerror(errno));
		return -1;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!is_persona_file(de->d_name))
			continue;
		if (*n >= PERSONA_MAX_FILES) {
			err_set(err, "%s: meer dan %d persona's", dir,
				PERSONA_MAX_FILES);
			goto out;
		}
		XGROW(*names, cap, *n + 1);
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	if (errno) {
		err_set(err, "%s: kan de map niet lezen: %s", dir,
			strerror(errno));
		goto out;
	}
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_names);
	rc = 0;
out:
	closedir(d);
	return rc;
}

int persona_load_dir(const char *dir, struct persona ***out, size_t *n,
		     struct err *err)
{
	struct persona **v = NULL;
	char **names = NULL;
	size_t nnames = 0, nv = 0;
	size_t dlen = strlen(dir);
	struct sbuf path;
	int rc = -1;

	sbuf_init(&path);
	if (list_dir(dir, &names, &nnames, err) < 0)
		goto out;
	if (nnames)
		v = xcalloc(nnames, sizeof(*v));
	for (size_t i = 0; i < nnames; i++) {
		sbuf_reset(&path);
		sbuf_adds(&path, dir);
		if (dlen && dir[dlen - 1] != '/')
			sbuf_addc(&path, '/');
		sbuf_adds(&path, names[i]);
		if (persona_load(sbuf_str(&path), &v[nv], err) < 0)
			goto out;
		nv++;
	}
	*out = v;
	*n = nv;
	v = NULL;
	rc = 0;
out:
	persona_list_free(v, nv);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	sbuf_release(&path);
	return rc;
}

void persona_list_free(struct persona **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		persona_free(v[i]);
	free(v);
}

const struct persona *persona_find(struct persona *const *v, size_t n,
				   const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i]->id, id))
			return v[i];
	return NULL;
}

const char *persona_role_name(enum persona_role role)
{
	if ((size_t)role >= ARRAY_LEN(role_names))
		return "?";
	return role_names[role];
}
