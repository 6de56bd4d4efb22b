/* coach.h - what coaches and trainers do beside a rehearsal: pause and
 * resume it, give a tip, speak as the persona, watch it from a side
 * room, annotate its turns (a reaction or thread reply on a persona
 * line), and replay a stored session into a room (!terugkijken).
 * The caller has checked the roles; the functions that act on the
 * running rehearsal need one (r->ss). All in the caller's transaction.
 */
#ifndef OEF_COACH_H
#define OEF_COACH_H

#include "bot_int.h"

int coach_pause(struct bot *b, struct room *r, const char *event_id,
		struct err *err);
int coach_resume(struct bot *b, struct room *r, const char *event_id,
		 struct err *err);
/* !tip <arg>: a hint for the trainee, kept in the transcript. */
int coach_tip(struct bot *b, struct room *r, const char *sender,
	      const char *arg, const char *event_id, struct err *err);
/* !zeg <arg>: the persona says arg. */
int coach_say(struct bot *b, struct room *r, const char *sender,
	      const char *arg, const char *event_id, struct err *err);
/* !coachkamer: ask for a side room with the room's coaches, trainers
 * and sender; it is set up when the homeserver answers. */
int coach_side_room(struct bot *b, struct room *r, const char *sender,
		    const char *event_id, struct err *err);

/* !terugkijken <arg>: replay the session arg names into r, for whoever
 * has a role in who in that session (one answer for "no such session"
 * and "not yours"). */
int coach_replay(struct bot *b, struct room *r, const char *sender,
		 const char *arg, const char *event_id, unsigned who,
		 struct err *err);
/* Did sender start the replay running in r? */
int coach_replay_mine(struct bot *b, struct room *r, const char *sender);
/* Stop the replay running in r (its waiting lines are dropped). */
int coach_replay_stop(struct bot *b, struct room *r, const char *event_id,
		      struct err *err);

/* sender's reaction or thread reply (kind "reactie"/"notitie", text)
 * on event target: an annotation of that turn when target is a turn of
 * r's rehearsal (or, from a side room, of its practice room's) and
 * sender coaches there; otherwise nothing. */
int coach_annotate(struct bot *b, struct room *r, const char *sender,
		   const char *target, const char *kind, const char *text,
		   struct err *err);

#endif
