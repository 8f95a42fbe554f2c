-- Every index entry is a D1 row written: this one cost a row on every step written (3 of a three-step order's 21). Its readers now go through transfers_tenant_updated and the steps' primary key, and retention's orphan search through the rowid (src/worker/retention.ts).
DROP INDEX IF EXISTS `transfer_steps_tenant_time`;--> statement-breakpoint
-- The orphan search's per-tenant cursors (rows along that index) mean nothing now: one global cursor, `retention:orphan-steps`, replaces them.
DELETE FROM `alert_state` WHERE `tenant_id` = '' AND `topic` LIKE 'retention:steps:%';
