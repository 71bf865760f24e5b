DROP TABLE psa_exclusions;
