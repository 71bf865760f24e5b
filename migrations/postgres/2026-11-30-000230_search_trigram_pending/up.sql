-- New rows reach the trigram index of the search through its pending list (GIN `fastupdate`),
-- which every search reads whole until a vacuum or a full list merges it: at the default limit
-- (4 MB) a word's search took twice as long (67 pending pages after seeding 100,000 organizations
-- doubled the index scan of "t418668"). A short list keeps searches steady and inserts batched;
-- what is pending now is merged.
ALTER INDEX search_terms_trgm SET (gin_pending_list_limit = 64);
SELECT gin_clean_pending_list('search_terms_trgm'::regclass);
