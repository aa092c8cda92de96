-- Comments for the columns migration 010 added to models and evaluations, so that
-- \d+ explains them to analysts (061 commented the schema before they existed).
COMMENT ON COLUMN evaluations.classifier IS
    'which model the scores are of: network (the stored model) or a baseline (logreg, svm) trained on the same rows and standardised features';
COMMENT ON COLUMN models.name IS 'a name given with af-train --name (unique), usable wherever a model id is';
COMMENT ON COLUMN models.interrupted IS 'true when training was stopped by a signal: such a model is never the default';
COMMENT ON COLUMN models.is_default IS 'the model af-predict uses without --model (af-train --promote); at most one';
COMMENT ON COLUMN models.deleted_at IS 'when af-train --delete dropped its weights (its scores stay); NULL while usable';
