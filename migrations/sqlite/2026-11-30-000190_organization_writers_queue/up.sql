-- PostgreSQL only (an advisory lock that queues writers of organizations; see its migration).
-- SQLite's writers already take their turn at BEGIN IMMEDIATE.
SELECT 1;
