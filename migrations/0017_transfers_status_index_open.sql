-- Every index entry is a D1 row written: the status index now holds only transfers that are not completed (most reach D1 completed), one row fewer per transfer. A list of completed transfers walks transfers_tenant_time instead; queries for another status carry the index's term (notCompleted in src/db/schema.ts). Creating it reads the table once and writes only the unfinished and failed transfers.
DROP INDEX `transfers_tenant_status_time`;--> statement-breakpoint
CREATE INDEX `transfers_tenant_status_time` ON `transfers` (`tenant_id`,`status`,`created_at`) WHERE status <> 'completed';
