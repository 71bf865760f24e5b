DROP TABLE psa_preview_items;
DROP TABLE psa_previews;
