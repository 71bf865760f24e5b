DROP TABLE search_values;
