-- af-ingest dir: the label each file gave its track (its folder, or --label-map's rule;
-- NULL = none).  A track's 'folder' raw tags are exactly the labels of its files, so a
-- file moved to another genre folder moves its track's label with it, and a file gone
-- from the folder (forgotten at the next complete run) takes its label away.
ALTER TABLE folder_files ADD COLUMN label text;
