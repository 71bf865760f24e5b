ALTER INDEX search_terms_trgm RESET (gin_pending_list_limit);
