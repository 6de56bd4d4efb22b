/* test_persona.c - loading personas/<id>.json: the good fixtures load with
 * every field, each bad fixture fails with a message naming file and
 * field, and a directory loads all or nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "persona.h"
#include "util.h"

#define FIXTURES "tests/data/personas"

/* Fixture path under $OEF_ROOT (the Makefile sets it) or the cwd. */
static const char *fixture(struct sbuf *sb, const char *rel)
{
	const char *root = getenv("OEF_ROOT");

	sbuf_reset(sb);
	if (root && *root) {
		sbuf_adds(sb, root);
		sbuf_addc(sb, '/');
	}
	sbuf_adds(sb, FIXTURES "/");
	sbuf_adds(sb, rel);
	return sbuf_str(sb);
}

static void test_good(void **state)
{
	struct sbuf path;
	struct persona *p = NULL;
	struct err err = { "" };

	(void)state;
	sbuf_init(&path);
	fixture(&path, "good/sandra.json");
	assert_int_equal(persona_load(sbuf_str(&path), &p, &err), 0);
	assert_string_equal(err.msg, "");
	assert_non_null(p);
	assert_string_equal(p->path, sbuf_str(&path));
	assert_string_equal(p->id, "sandra");
	assert_string_equal(p->name, "Sandra");
	assert_string_equal(p->display_name, "Sandra (moeder van Daan)");
	assert_int_equal(p->role, PERSONA_PARENT);
	assert_string_equal(persona_role_name(p->role), "ouder");
	assert_int_equal(p->age, 34);
	assert_true(!strncmp(p->situation, "Sandra is alleenstaande", 23));
	assert_true(!strncmp(p->speech, "Kort en direct", 14));
	assert_int_equal(p->nsources, 2);
	assert_string_equal(p->sources[0].section,
			    "Voorafgaand aan het hulpverleningstraject");
	assert_true(!strncmp(p->sources[0].quote,
			     "Ik kreeg een keer een brief.", 28));
	/* UTF-8 survives: z’n */
	assert_non_null(strstr(p->sources[0].quote, "z\xe2\x80\x99n"));
	persona_free(p);

	p = NULL;
	fixture(&path, "good/mila.json");
	assert_int_equal(persona_load(sbuf_str(&path), &p, NULL), 0);
	assert_string_equal(p->id, "mila");
	assert_int_equal(p->role, PERSONA_YOUTH);
	assert_int_equal(p->age, 15);
	assert_int_equal(p->nsources, 1);
	persona_free(p);
	persona_free(NULL);
	sbuf_release(&path);
}

struct bad_case {
	const char *file;   /* under bad/ */
	const char *msg;    /* the whole message after "<path>" */
};

static const struct bad_case bad[] = {
	{ "wrong-rol.json",
	  ": veld \"rol\": verwacht ouder, jongere of kind, niet \"moeder\"" },
	{ "missing-rol.json", ": veld \"rol\" ontbreekt" },
	{ "missing-fictief.json",
	  ": veld \"fictief\" ontbreekt; zet \"fictief\": true als de "
	  "persona verzonnen is" },
	{ "wrong-type.json",
	  ": veld \"leeftijd\": verwacht een geheel getal, niet een tekst" },
	{ "real-age.json", ": veld \"leeftijd\": verwacht een geheel getal, "
	  "niet een kommagetal" },
	{ "age-range.json", ": veld \"leeftijd\": verwacht 4 t/m 99, niet 3" },
	{ "id-mismatch.json", ": veld \"id\": \"sandra\" past niet bij de "
	  "bestandsnaam; verwacht \"id-mismatch\"" },
	{ "Hoofdletter.json", ": veld \"id\": \"Hoofdletter\" mag alleen "
	  "kleine letters, cijfers, - en _ bevatten" },
	{ "unknown-key.json", ": veld \"hobby\" is onbekend; toegestaan zijn: "
	  "id, naam, weergavenaam, rol, leeftijd, situatie, spreekstijl, "
	  "bronnen, fictief" },
	{ "fictief-false.json", ": veld \"fictief\": moet true zijn; een "
	  "persona is altijd verzonnen, nooit een echte cli\xc3\xabnt" },
	{ "fictief-string.json",
	  ": veld \"fictief\": verwacht true, niet een tekst" },
	{ "empty-name.json", ": veld \"naam\": mag niet leeg zijn" },
	{ "name-newline.json",
	  ": veld \"naam\": mag geen regeleinde of tab bevatten" },
	{ "control-char.json", ": veld \"situatie\": bevat een onzichtbaar "
	  "stuurteken (byte 4)" },
	{ "no-sources.json", ": veld \"bronnen\": noem minstens \xc3\xa9\xc3"
	  "\xa9n passage uit de factsheet" },
	{ "sources-object.json", ": veld \"bronnen\": verwacht een lijst "
	  "[ \xe2\x80\xa6 ], niet een object { \xe2\x80\xa6 }" },
	{ "source-string.json", ": veld \"bronnen[0]\": verwacht een object "
	  "{ \"sectie\": \xe2\x80\xa6, \"citaat\": \xe2\x80\xa6 }, niet een "
	  "tekst" },
	{ "source-missing-quote.json", ": veld \"bronnen[1].citaat\" "
	  "ontbreekt" },
	{ "source-unknown-key.json", ": veld \"bronnen[0].pagina\" is "
	  "onbekend; toegestaan zijn: sectie, citaat" },
	{ "not-object.json", ": verwacht een object { \xe2\x80\xa6 } met de "
	  "velden van de persona, niet een lijst [ \xe2\x80\xa6 ]" },
	/* JSON syntax: file:line:column from jansson */
	{ "invalid-json.json", ":4:16: ongeldige JSON: '}' expected near "
	  "'\"weergavenaam\"'" },
	{ "duplicate-key.json", ":4:8: ongeldige JSON: duplicate object "
	  "key near '\"naam\"'" },
	{ "bad-utf8.json", ":3:" },
};

static void test_bad(void **state)
{
	struct sbuf path, want;

	(void)state;
	sbuf_init(&path);
	sbuf_init(&want);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct persona *p = (struct persona *)&path;  /* sentinel */
		struct err err = { "" };
		char rel[128];

		snprintf(rel, sizeof(rel), "bad/%s", bad[i].file);
		fixture(&path, rel);
		assert_int_equal(persona_load(sbuf_str(&path), &p, &err), -1);
		/* *out is untouched on failure */
		assert_ptr_equal(p, (struct persona *)&path);
		sbuf_reset(&want);
		sbuf_adds(&want, sbuf_str(&path));
		sbuf_adds(&want, bad[i].msg);
		if (strncmp(err.msg, sbuf_str(&want), want.len))
			print_error("fixture %s\n", bad[i].file);
		if (!strcmp(bad[i].file, "bad-utf8.json"))
			/* jansson's wording of the byte varies by version */
			assert_true(!strncmp(err.msg, sbuf_str(&want),
					     want.len));
		else
			assert_string_equal(err.msg, sbuf_str(&want));
		/* NULL err is allowed */
		assert_int_equal(persona_load(sbuf_str(&path), &p, NULL), -1);
	}
	sbuf_release(&path);
	sbuf_release(&want);
}

/* persona_load_text gives what persona_load gives for the same bytes:
 * every fixture, good and bad, loads or fails with the same message. */
static void test_load_text(void **state)
{
	static const char *const good[] = { "good/sandra.json",
					    "good/mila.json" };
	struct sbuf path;
	struct persona *p = NULL, *q = NULL;
	struct err err, err2;
	char *buf, *big;
	size_t len;

	(void)state;
	sbuf_init(&path);
	for (size_t i = 0; i < ARRAY_LEN(good) + ARRAY_LEN(bad); i++) {
		char rel[128];

		if (i < ARRAY_LEN(good))
			snprintf(rel, sizeof(rel), "%s", good[i]);
		else
			snprintf(rel, sizeof(rel), "bad/%s",
				 bad[i - ARRAY_LEN(good)].file);
		fixture(&path, rel);
		assert_int_equal(read_file(sbuf_str(&path), 1 << 20, &buf,
					   &len, &err), 0);
		p = q = NULL;
		err.msg[0] = err2.msg[0] = '\0';
		if (i < ARRAY_LEN(good)) {
			assert_int_equal(persona_load_text(sbuf_str(&path),
							   buf, len, &p,
							   &err), 0);
			assert_int_equal(persona_load(sbuf_str(&path), &q,
						      &err2), 0);
			assert_string_equal(p->path, q->path);
			assert_string_equal(p->id, q->id);
			assert_string_equal(p->situation, q->situation);
			assert_int_equal(p->nsources, q->nsources);
		} else {
			assert_int_equal(persona_load_text(sbuf_str(&path),
							   buf, len, &p,
							   &err), -1);
			assert_int_equal(persona_load(sbuf_str(&path), &q,
						      &err2), -1);
			assert_null(p);
			assert_string_equal(err.msg, err2.msg);
		}
		persona_free(p);
		persona_free(q);
		free(buf);
	}

	/* the text need not be NUL-terminated: only len bytes count */
	fixture(&path, "good/mila.json");
	assert_int_equal(read_file(sbuf_str(&path), 1 << 20, &buf, &len,
				   &err), 0);
	buf = xrealloc(buf, len + 8);
	memcpy(buf + len, "kapot!!", 8);
	p = NULL;
	assert_int_equal(persona_load_text("mila.json", buf, len, &p, &err),
			 0);
	assert_string_equal(p->path, "mila.json");
	assert_string_equal(p->id, "mila");
	persona_free(p);

	/* the name still has to promise the id */
	p = NULL;
	assert_int_equal(persona_load_text("anders.json", buf, len, &p,
					   &err), -1);
	assert_null(p);
	assert_string_equal(err.msg, "anders.json: veld \"id\": \"mila\" "
			    "past niet bij de bestandsnaam; verwacht "
			    "\"anders\"");
	assert_int_equal(persona_load_text("mila.txt", buf, len, &p, &err),
			 -1);
	assert_string_equal(err.msg, "mila.txt: de bestandsnaam moet "
			    "<id>.json zijn");
	assert_int_equal(persona_load_text("mila.json", buf, len, &p, NULL),
			 0);
	persona_free(p);
	free(buf);

	/* empty text and text over the cap */
	p = NULL;
	assert_int_equal(persona_load_text("leeg.json", "", 0, &p, &err), -1);
	assert_true(!strncmp(err.msg, "leeg.json:1:", 12));
	big = xmalloc(PERSONA_MAX_BYTES + 1);
	memset(big, ' ', PERSONA_MAX_BYTES + 1);
	assert_int_equal(persona_load_text("groot.json", big,
					   PERSONA_MAX_BYTES + 1, &p, &err),
			 -1);
	assert_string_equal(err.msg, "groot.json: bestand is te groot "
			    "(hooguit 256 KiB)");
	assert_null(p);
	free(big);
	sbuf_release(&path);
}

/* A scratch directory under /tmp, removed by the caller. */
static char *scratch_dir(void)
{
	char *d = xstrdup("/tmp/oef-persona-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void write_file(const char *dir, const char *name, const char *s,
		       size_t len)
{
	struct sbuf p;
	FILE *f;

	sbuf_init(&p);
	sbuf_addf(&p, "%s/%s", dir, name);
	f = fopen(sbuf_str(&p), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	sbuf_release(&p);
}

static void remove_file(const char *dir, const char *name)
{
	struct sbuf p;

	sbuf_init(&p);
	sbuf_addf(&p, "%s/%s", dir, name);
	unlink(sbuf_str(&p));
	sbuf_release(&p);
}

static void test_file_errors(void **state)
{
	struct sbuf path, want;
	struct persona *p = NULL;
	struct err err;
	char *dir = scratch_dir();
	char *big;
	size_t big_len = PERSONA_MAX_BYTES + 1;

	(void)state;
	sbuf_init(&path);
	sbuf_init(&want);

	/* one byte over the cap is refused before parsing */
	big = xmalloc(big_len);
	memset(big, ' ', big_len);
	write_file(dir, "groot.json", big, big_len);
	sbuf_addf(&path, "%s/groot.json", dir);
	assert_int_equal(persona_load(sbuf_str(&path), &p, &err), -1);
	sbuf_addf(&want, "%s: bestand is te groot (hooguit 256 KiB)",
		  sbuf_str(&path));
	assert_string_equal(err.msg, sbuf_str(&want));
	remove_file(dir, "groot.json");
	free(big);

	/* missing file */
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/weg.json", dir);
	assert_int_equal(persona_load(sbuf_str(&path), &p, &err), -1);
	sbuf_reset(&want);
	sbuf_addf(&want, "%s: bestand bestaat niet", sbuf_str(&path));
	assert_string_equal(err.msg, sbuf_str(&want));

	/* a name that is not <id>.json */
	write_file(dir, "sandra.txt", "{}", 2);
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/sandra.txt", dir);
	assert_int_equal(persona_load(sbuf_str(&path), &p, &err), -1);
	sbuf_reset(&want);
	sbuf_addf(&want, "%s: de bestandsnaam moet <id>.json zijn",
		  sbuf_str(&path));
	assert_string_equal(err.msg, sbuf_str(&want));
	remove_file(dir, "sandra.txt");

	/* empty file */
	write_file(dir, "leeg.json", "", 0);
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/leeg.json", dir);
	assert_int_equal(persona_load(sbuf_str(&path), &p, &err), -1);
	sbuf_reset(&want);
	sbuf_addf(&want, "%s:", sbuf_str(&path));
	assert_true(!strncmp(err.msg, sbuf_str(&want), want.len));
	assert_non_null(strstr(err.msg, "ongeldige JSON"));
	remove_file(dir, "leeg.json");

	/* a directory is not a persona */
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/map.json", dir);
	assert_int_equal(mkdir(sbuf_str(&path), 0700), 0);
	assert_int_equal(persona_load(sbuf_str(&path), &p, &err), -1);
	sbuf_reset(&want);
	sbuf_addf(&want, "%s: is geen gewoon bestand", sbuf_str(&path));
	assert_string_equal(err.msg, sbuf_str(&want));
	assert_int_equal(rmdir(sbuf_str(&path)), 0);

	assert_null(p);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
	sbuf_release(&path);
	sbuf_release(&want);
}

static void test_dir(void **state)
{
	struct sbuf path, want, src;
	struct persona **v = NULL;
	struct err err;
	size_t n = 99;
	char *dir = scratch_dir();
	char *buf;
	size_t len;

	(void)state;
	sbuf_init(&path);
	sbuf_init(&want);
	sbuf_init(&src);

	/* the good fixtures, sorted by file name */
	fixture(&path, "good");
	assert_int_equal(persona_load_dir(sbuf_str(&path), &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->id, "mila");
	assert_string_equal(v[1]->id, "sandra");
	assert_ptr_equal(persona_find(v, n, "sandra"), v[1]);
	assert_ptr_equal(persona_find(v, n, "mila"), v[0]);
	assert_null(persona_find(v, n, "daan"));
	assert_null(persona_find(v, n, ""));
	assert_null(persona_find(v, n, NULL));
	persona_list_free(v, n);

	/* a trailing slash does not double */
	sbuf_addc(&path, '/');
	assert_int_equal(persona_load_dir(sbuf_str(&path), &v, &n, &err), 0);
	sbuf_reset(&want);
	sbuf_addf(&want, "%ssandra.json", sbuf_str(&path));
	assert_string_equal(v[1]->path, sbuf_str(&want));
	persona_list_free(v, n);

	/* all or nothing: the first bad file (sorted) fails the load */
	v = NULL;
	n = 99;
	fixture(&path, "bad");
	assert_int_equal(persona_load_dir(sbuf_str(&path), &v, &n, &err), -1);
	assert_null(v);
	assert_int_equal(n, 99);
	sbuf_reset(&want);
	sbuf_addf(&want, "%s/Hoofdletter.json: veld \"id\"", sbuf_str(&path));
	assert_true(!strncmp(err.msg, sbuf_str(&want), want.len));

	/* empty directory: no personas, no error */
	assert_int_equal(persona_load_dir(dir, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	persona_list_free(v, n);

	/* hidden files and other extensions are skipped */
	fixture(&src, "good/mila.json");
	assert_int_equal(read_file(sbuf_str(&src), 1 << 20, &buf, &len,
				   &err), 0);
	write_file(dir, "mila.json", buf, len);
	write_file(dir, ".mila.json.swp.json", "kapot", 5);
	write_file(dir, "notities.txt", "kapot", 5);
	write_file(dir, ".json", "kapot", 5);
	free(buf);
	assert_int_equal(persona_load_dir(dir, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, "mila");
	persona_list_free(v, n);
	remove_file(dir, "mila.json");
	remove_file(dir, ".mila.json.swp.json");
	remove_file(dir, "notities.txt");
	remove_file(dir, ".json");
	assert_int_equal(rmdir(dir), 0);

	/* a missing directory */
	sbuf_reset(&want);
	sbuf_addf(&want, "%s: kan de map niet openen: ", dir);
	assert_int_equal(persona_load_dir(dir, &v, &n, &err), -1);
	assert_true(!strncmp(err.msg, sbuf_str(&want), want.len));

	free(dir);
	persona_list_free(NULL, 0);
	sbuf_release(&path);
	sbuf_release(&want);
	sbuf_release(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_load_text),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_dir),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
