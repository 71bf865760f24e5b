DROP TABLE records;
DROP TABLE flexible_asset_types;
