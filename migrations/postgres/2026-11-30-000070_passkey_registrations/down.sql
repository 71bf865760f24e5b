DROP TABLE passkey_registrations;
