DROP TABLE psa_loads;
DROP TABLE psa_status_map;
DROP TABLE psa_type_map;
DROP TABLE psa_settings;
