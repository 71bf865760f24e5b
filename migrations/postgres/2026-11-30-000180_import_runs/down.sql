DROP TABLE import_notes;
DROP TABLE import_runs;
