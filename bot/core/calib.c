/* calib.c - see calib.h. */
#include "calib.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "match.h"

#define CALIB_SEED 1

void calib_points(struct script *s, const struct corpus *train)
{
	size_t nk = CALIB_KEYS(s);
	struct engine_out out;
	struct match m;

	free(s->quiet);
	free(s->quiet_seen);
	free(s->quiet_right);
	s->quiet = NULL;
	s->quiet_seen = s->quiet_right = NULL;
	if (!train || !train->nconvs || !nk)
		return;
	s->quiet_seen = xcalloc(nk, sizeof(uint32_t));
	s->quiet_right = xcalloc(nk, sizeof(uint32_t));
	engine_out_init(&out);
	match_init(&m);
	for (size_t ci = 0; ci < train->nconvs; ci++) {
		const struct corpus_conv *cv = &train->convs[ci];
		struct engine *e = engine_new(s, CALIB_SEED);

		engine_start(e, &out);
		for (size_t ti = cv->first; ti < cv->first + cv->nturns; ti++) {
			const struct corpus_turn *t = &train->turns[ti];

			match_run(&m, s, t->text, strlen(t->text));
			if (engine_turn_matched(e, &m, t->text, &out) < 0)
				break;
			for (size_t j = 0; j < out.npoints; j++) {
				const struct engine_point *p = &out.points[j];
				size_t k = calib_key(p->point, p->shown,
						     p->by_model);
				size_t ks = calib_src_key(s, p->src,
							  p->by_model);
				int right = 0;

				for (size_t q = 0; q < t->npoints && !right;
				     q++)
					right = t->points[q].point == p->point &&
						!t->points[q].shown ==
						!p->shown;
				s->quiet_seen[k]++;
				s->quiet_seen[ks]++;
				s->quiet_right[k] += (uint32_t)right;
				s->quiet_right[ks] += (uint32_t)right;
			}
		}
		engine_free(e);
	}
	match_release(&m);
	engine_out_release(&out);
	s->quiet = xcalloc(nk, 1);
	for (size_t k = 0; k < CALIB_KEYS(s) - s->nsrcs * 2; k++)
		s->quiet[k] = calib_quiet(s->quiet_seen[k], s->quiet_right[k],
					     (int)(k % 2));
	/* a source by its own counts when it has enough of them, else as
	 * its point and side */
	for (uint32_t i = 0; i < s->nsrcs; i++)
		for (int by_model = 0; by_model < 2; by_model++) {
			size_t ks = calib_src_key(s, i, by_model);

			s->quiet[ks] = s->quiet_seen[ks] >= CALIB_MIN_SEEN ?
				calib_quiet(s->quiet_seen[ks],
					    s->quiet_right[ks], by_model) :
				s->quiet[calib_key(s->srcs[i].point,
						   s->srcs[i].shown,
						   by_model)];
		}
}
