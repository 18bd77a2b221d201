-- Facts about a site that are not readings but that rules need (docs/api.md, "Site conditions"): the growth or
-- production stage (rule expressions test `stage`), a pond's last hand-measured total-ammonia-nitrogen test and
-- when it was taken (`tan_mg_l`, un-ionised ammonia rules), and the site's outdoor reference node (`outside(q)`).
-- The stage is checked against the profile's stages and the node against the site's nodes in registry/sites.py;
-- a CHECK cannot see profiles.yaml or, added by ALTER TABLE, span two tables.

ALTER TABLE sites ADD COLUMN stage TEXT;
ALTER TABLE sites ADD COLUMN tan_mg_l REAL CHECK (tan_mg_l >= 0);
ALTER TABLE sites ADD COLUMN tan_measured_ms BIGINT;
ALTER TABLE sites ADD COLUMN outdoor_node TEXT;
