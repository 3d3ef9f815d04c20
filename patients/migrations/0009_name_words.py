# The words of the folded names, for the search box (patients.services, find_patients).
#
# A typed word of three letters or more is found in a name by LIKE '%word%' on search_name. The trigram
# index (patient_name_trgm) answers that by reading the posting list of every trigram of the word, which
# for a common name is tens of thousands of entries per trigram (issue 17: 'Marie-Ève Campbell' 19 ms at
# 1,000,000 patients). Instead the search first widens each typed word to the distinct name words that
# hold it (a small table, searched by its own trigram index), then asks a GIN index on each patient's
# words for the patients holding one of those: 'marie-eve' and 'campbell' are one word each, one posting
# list each. A word holds the typed word exactly when the name does (the typed word has no space, so it
# can only sit inside one word), so the LIKE stays as the final filter and finds the same patients.
#
# patients_name_word holds every distinct word of three characters or more of search_name (split on
# spaces, as string_to_array does) with the number of patients whose name holds it; a word no patient
# holds any more is deleted. Statement-level triggers keep it, so the ORM, bulk_create, COPY (bulk
# registration) and raw SQL all count, a bulk load in one aggregate. The upsert takes the words' row locks
# in word order, so two writers of the same words wait for each other rather than deadlock within a
# statement. Patients are never deleted (migration 0002) but the DELETE trigger is there all the same,
# and TRUNCATE (the test runner's flush, by the owner) empties the table.
#
# The table is the app's to write through the triggers, which run as the writer: the migrate command's
# default privileges grant the app role what it needs on it (clinic/database_roles.py).

from django.db import migrations

WORDS = r"""
LOCK TABLE patients_patient IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE patients_name_word (
    word text PRIMARY KEY,
    patients integer NOT NULL
);
COMMENT ON TABLE patients_name_word IS
    'Distinct words (3+ characters) of patients_patient.search_name and how many patients hold each; '
    'kept by triggers (patients migration 0009), read by the search box to widen a typed word.';

CREATE FUNCTION patients_name_word_delta(before text[], after text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    emptied text[];
BEGIN
    WITH changes AS (
        SELECT word, sum(delta)::integer AS delta
        FROM (
            SELECT DISTINCT n, word, 1 AS delta FROM unnest(after) WITH ORDINALITY AS a(names, n),
                LATERAL unnest(string_to_array(a.names, ' ')) AS word
            UNION ALL
            SELECT DISTINCT n, word, -1 FROM unnest(before) WITH ORDINALITY AS b(names, n),
                LATERAL unnest(string_to_array(b.names, ' ')) AS word
        ) AS words
        WHERE length(word) >= 3
        GROUP BY word
        HAVING sum(delta) <> 0
    ), counted AS (
        INSERT INTO patients_name_word AS known (word, patients)
        SELECT word, delta FROM changes ORDER BY word
        ON CONFLICT (word) DO UPDATE SET patients = known.patients + EXCLUDED.patients
        RETURNING word, patients
    )
    SELECT array_agg(word) INTO emptied FROM counted WHERE patients <= 0;
    IF emptied IS NOT NULL THEN
        DELETE FROM patients_name_word WHERE word = ANY (emptied) AND patients <= 0;
    END IF;
END;
$$;

CREATE FUNCTION patients_name_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM patients_name_word_delta('{}', ARRAY(SELECT search_name FROM new_patients));
    RETURN NULL;
END;
$$;
CREATE FUNCTION patients_name_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Most updates leave the names alone (archiving, a phone, every ORM save of other fields).
    PERFORM patients_name_word_delta(
        ARRAY(SELECT o.search_name FROM old_patients o JOIN new_patients n ON n.id = o.id
              WHERE o.search_name IS DISTINCT FROM n.search_name),
        ARRAY(SELECT n.search_name FROM old_patients o JOIN new_patients n ON n.id = o.id
              WHERE o.search_name IS DISTINCT FROM n.search_name));
    RETURN NULL;
END;
$$;
CREATE FUNCTION patients_name_words_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM patients_name_word_delta(ARRAY(SELECT search_name FROM old_patients), '{}');
    RETURN NULL;
END;
$$;
CREATE FUNCTION patients_name_words_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM patients_name_word;
    RETURN NULL;
END;
$$;

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
INSERT INTO patients_name_word (word, patients)
SELECT word, count(*)
FROM (SELECT DISTINCT id, word FROM patients_patient, unnest(string_to_array(search_name, ' ')) AS word) AS w
WHERE length(word) >= 3
GROUP BY word;
"""

INDEXES = """
CREATE INDEX patients_name_word_trgm ON patients_name_word USING gin (word gin_trgm_ops);
CREATE INDEX patient_name_words_idx ON patients_patient USING gin (string_to_array(search_name, ' '));
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
DROP FUNCTION IF EXISTS patients_name_word_delta(text[], text[]);
DROP TABLE IF EXISTS patients_name_word;
"""


class Migration(migrations.Migration):
    dependencies = [("patients", "0008_whole_phone_number_indexes")]

    operations = [migrations.RunSQL(WORDS + BACKFILL + INDEXES, DROP_WORDS)]
