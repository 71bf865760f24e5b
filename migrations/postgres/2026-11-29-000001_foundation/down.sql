DROP TABLE audit_events;
DROP TABLE app_settings;
DROP TABLE sessions;
DROP TABLE users;
