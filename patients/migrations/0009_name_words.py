# The words of the folded names, for the search box (patients.services, find_patients).
#
# A typed word of three letters or more is found in a name by LIKE '%word%' on search_name. The trigram
# index (patient_name_trgm) answers that by reading the posting list of every trigram of the word, which
# for a common name is tens of thousands of entries per trigram (issue 17: 'Marie-Ève Campbell' 19 ms at
# 1,000,000 patients). Instead the search first widens each typed word to the distinct name words that
# hold it (a small table, searched by its own trigram index), then asks a GIN index on each patient's
# words for the patients holding one of those: 'marie-eve' and 'campbell' are one word each, one posting
# list each. A word holds the typed word exactly when the name does (the typed word has no space, so it
# can only sit inside one word), so the same patients are found; each is checked again (strpos).
#
# patients_name_word holds every distinct word of three characters or more that a patient's search_name
# has held (split on spaces, as string_to_array does). Statement-level triggers add the words of each
# name written, so the ORM, bulk_create, COPY (bulk registration) and raw SQL all count, a bulk load in
# one statement. It only grows: a word no patient holds any more stays, and widens a typed word to one
# more word whose patients are none (the GIN index's list and the postings are empty for it), so it
# finds nobody extra. No count is kept, on purpose: a count would make every registration update the
# rows of common words (a family name shared by thousands), holding their locks until it commits, so
# registrations and imports would queue on them and, writing words in different orders over several
# statements, could deadlock. Adding a word that is there already (ON CONFLICT DO NOTHING) locks nothing.
# Patients are never deleted (migration 0002); TRUNCATE (the test runner's flush, by the owner) empties
# both tables.
#
# patients_name_posting holds, for each current (not archived) patient, one row per distinct word of three
# characters or more of the name, with the patient's lower(family_name), lower(given_name) and id: the
# search's own order. A single typed word (the first keystrokes, a surname) can match tens of thousands of
# patients (the demo's 'camp' 15,909 of 1,000,000) of which the box shows 25 in name order; the GIN index
# gives them in no order, so all were fetched and sorted. The postings' b-tree gives each widened word's
# patients already in name order, so the search reads the first 25 of each word and no more.
#
# The GIN indexes are written through (fastupdate off): with GIN's pending list, every search would also
# read the entries written since the last vacuum, up to 4 MB of them (at 200,000 patients, after 60,000
# inserts, 'Marie-Ève Campbell' took 5.8 ms in the index rather than 1); a patient's name is two or three
# words, so writing them straight into the index costs little.
#
# The tables are the app's to write through the triggers, which run as the writer: the migrate command's
# default privileges grant the app role what it needs on it (clinic/database_roles.py).

from django.db import migrations

# A row of an UPDATE's after image (n) whose name, and whether it is archived, are its before image's (o):
# most updates are of other fields (a phone, every ORM save of them), and leave its postings alone.
UNCHANGED = """n.search_name IS NOT DISTINCT FROM o.search_name
            AND n.family_name IS NOT DISTINCT FROM o.family_name AND n.given_name IS NOT DISTINCT FROM o.given_name
            AND (n.archived_at IS NULL) = (o.archived_at IS NULL)"""

WORDS = r"""
LOCK TABLE patients_patient IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE patients_name_word (word text PRIMARY KEY);
COMMENT ON TABLE patients_name_word IS
    'Distinct words (3+ characters) patients_patient.search_name has held; only grows; kept by triggers '
    '(patients migration 0009), read by the search box to widen a typed word.';

CREATE FUNCTION patients_name_words_add(names text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO patients_name_word (word)
    SELECT DISTINCT word FROM unnest(names) AS n(name), unnest(string_to_array(n.name, ' ')) AS word
    WHERE length(word) >= 3
    ORDER BY word
    ON CONFLICT (word) DO NOTHING
$$;

CREATE TABLE patients_name_posting (
    word text NOT NULL,
    family text NOT NULL,
    given text NOT NULL,
    patient_id bigint NOT NULL
);
COMMENT ON TABLE patients_name_posting IS
    'Each current patient''s distinct name words (3+ characters) with lower(family_name), lower(given_name) '
    'and id, the search order; kept by triggers (patients migration 0009), read by the search box.';

CREATE FUNCTION patients_name_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM patients_name_words_add(ARRAY(SELECT search_name FROM new_patients));
    INSERT INTO patients_name_posting (word, family, given, patient_id)
    SELECT DISTINCT word, lower(n.family_name), lower(n.given_name), n.id
    FROM new_patients n, unnest(string_to_array(n.search_name, ' ')) AS word
    WHERE n.archived_at IS NULL AND length(word) >= 3;
    RETURN NULL;
END;
$$;
CREATE FUNCTION patients_name_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM patients_name_words_add(ARRAY(SELECT n.search_name FROM new_patients n WHERE NOT EXISTS (
        SELECT FROM old_patients o WHERE o.id = n.id AND o.search_name IS NOT DISTINCT FROM n.search_name)));
    DELETE FROM patients_name_posting p
    USING (
        SELECT DISTINCT word, lower(o.family_name) AS family, lower(o.given_name) AS given, o.id
        FROM old_patients o, unnest(string_to_array(o.search_name, ' ')) AS word
        WHERE o.archived_at IS NULL AND length(word) >= 3 AND NOT EXISTS (
            SELECT FROM new_patients n WHERE n.id = o.id AND {UNCHANGED})
    ) AS gone
    WHERE p.word = gone.word AND p.family = gone.family AND p.given = gone.given AND p.patient_id = gone.id;
    INSERT INTO patients_name_posting (word, family, given, patient_id)
    SELECT DISTINCT word, lower(n.family_name), lower(n.given_name), n.id
    FROM new_patients n, unnest(string_to_array(n.search_name, ' ')) AS word
    WHERE n.archived_at IS NULL AND length(word) >= 3 AND NOT EXISTS (
        SELECT FROM old_patients o WHERE o.id = n.id AND {UNCHANGED});
    RETURN NULL;
END;
$$;
CREATE FUNCTION patients_name_words_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM patients_name_posting p
    USING (
        SELECT DISTINCT word, lower(o.family_name) AS family, lower(o.given_name) AS given, o.id
        FROM old_patients o, unnest(string_to_array(o.search_name, ' ')) AS word
        WHERE o.archived_at IS NULL AND length(word) >= 3
    ) AS gone
    WHERE p.word = gone.word AND p.family = gone.family AND p.given = gone.given AND p.patient_id = gone.id;
    RETURN NULL;
END;
$$;
CREATE FUNCTION patients_name_words_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM patients_name_word;
    DELETE FROM patients_name_posting;
    RETURN NULL;
END;
$$;

"""
TRIGGERS = """
CREATE TRIGGER patients_name_words_inserted AFTER INSERT ON patients_patient
    REFERENCING NEW TABLE AS new_patients
    FOR EACH STATEMENT EXECUTE FUNCTION patients_name_words_inserted();
CREATE TRIGGER patients_name_words_updated AFTER UPDATE ON patients_patient
    REFERENCING OLD TABLE AS old_patients NEW TABLE AS new_patients
    FOR EACH STATEMENT EXECUTE FUNCTION patients_name_words_updated();
CREATE TRIGGER patients_name_words_deleted AFTER DELETE ON patients_patient
    REFERENCING OLD TABLE AS old_patients
    FOR EACH STATEMENT EXECUTE FUNCTION patients_name_words_deleted();
CREATE TRIGGER patients_name_words_emptied AFTER TRUNCATE ON patients_patient
    FOR EACH STATEMENT EXECUTE FUNCTION patients_name_words_emptied();
"""

# The words of the patients already there (also run by tests/patients/test_search_name_words.py).
BACKFILL = """
INSERT INTO patients_name_word (word)
SELECT DISTINCT word FROM patients_patient, unnest(string_to_array(search_name, ' ')) AS word
WHERE length(word) >= 3;
INSERT INTO patients_name_posting (word, family, given, patient_id)
SELECT DISTINCT word, lower(family_name), lower(given_name), id
FROM patients_patient, unnest(string_to_array(search_name, ' ')) AS word
WHERE archived_at IS NULL AND length(word) >= 3;
"""

INDEXES = """
CREATE INDEX patients_name_word_trgm ON patients_name_word USING gin (word gin_trgm_ops)
    WITH (fastupdate = off);
CREATE INDEX patient_name_words_idx ON patients_patient USING gin (string_to_array(search_name, ' '))
    WITH (fastupdate = off);
ALTER TABLE patients_name_posting ADD PRIMARY KEY (word, family, given, patient_id);
"""

DROP_WORDS = """
DROP INDEX IF EXISTS patient_name_words_idx;
DROP TRIGGER IF EXISTS patients_name_words_emptied ON patients_patient;
DROP TRIGGER IF EXISTS patients_name_words_deleted ON patients_patient;
DROP TRIGGER IF EXISTS patients_name_words_updated ON patients_patient;
DROP TRIGGER IF EXISTS patients_name_words_inserted ON patients_patient;
DROP FUNCTION IF EXISTS patients_name_words_emptied();
DROP FUNCTION IF EXISTS patients_name_words_deleted();
DROP FUNCTION IF EXISTS patients_name_words_updated();
DROP FUNCTION IF EXISTS patients_name_words_inserted();
DROP FUNCTION IF EXISTS patients_name_words_add(text[]);
DROP TABLE IF EXISTS patients_name_posting;
DROP TABLE IF EXISTS patients_name_word;
"""


class Migration(migrations.Migration):
    dependencies = [("patients", "0008_whole_phone_number_indexes")]

    operations = [
        migrations.RunSQL(WORDS.replace("{UNCHANGED}", UNCHANGED) + TRIGGERS + BACKFILL + INDEXES, DROP_WORDS)
    ]
