-- A store at schema version 1, as the first released Oefenkamer wrote it
-- (fictional session). test_store opens it to prove that later versions
-- still read and migrate old files. Do not edit: add v2.sql next to it.
PRAGMA application_id = 1332045361;
PRAGMA user_version = 1;
CREATE TABLE sessions ( id INTEGER PRIMARY KEY, scenario TEXT NOT NULL, title TEXT, persona TEXT, seed INTEGER NOT NULL DEFAULT 0, trainee TEXT, room TEXT, started_ms INTEGER NOT NULL, ended_ms INTEGER NOT NULL DEFAULT 0, ending TEXT, ending_kind TEXT, state TEXT);
CREATE TABLE turns ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), seq INTEGER NOT NULL, beurt INTEGER NOT NULL DEFAULT 0, speaker TEXT NOT NULL, author TEXT, text TEXT NOT NULL, ts_ms INTEGER NOT NULL, node TEXT, rules_json TEXT, vars_json TEXT, UNIQUE (session_id, seq));
CREATE TABLE rubric_events ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), turn_seq INTEGER NOT NULL, point TEXT NOT NULL, shown INTEGER NOT NULL CHECK (shown IN (0, 1)), reason TEXT);
CREATE INDEX rubric_events_session ON rubric_events (session_id);
CREATE TABLE annotations ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), turn_seq INTEGER NOT NULL, author TEXT, kind TEXT NOT NULL, text TEXT NOT NULL, ts_ms INTEGER NOT NULL);
CREATE INDEX annotations_session ON annotations (session_id);
INSERT INTO sessions VALUES (1, 'moeder-brief', 'De brief over de natte broek', 'sandra', 42, 'terminal', NULL, 1796824800000, 1796825100000, 'sandra-stopt', 'breuk', NULL);
INSERT INTO turns VALUES (1, 1, 1, 0, 'persona', NULL, 'Goedemiddag. Komt u maar binnen.', 1796824801000, 'binnenkomst', NULL, '{"vertrouwen":3,"spanning":5}');
INSERT INTO turns VALUES (2, 1, 2, 1, 'trainee', NULL, 'Wat is een OTS?', 1796824830000, 'binnenkomst', '["jargon-vraagt-uitleg"]', '{"vertrouwen":2,"spanning":6}');
INSERT INTO turns VALUES (3, 1, 3, 1, 'persona', NULL, 'Wacht even. Wat bedoelt u met OTS?', 1796824831000, 'binnenkomst', NULL, NULL);
INSERT INTO rubric_events VALUES (1, 1, 2, 'begrip-taal', 0, 'afkorting of vakterm zonder uitleg');
