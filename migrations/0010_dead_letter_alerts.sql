ALTER TABLE `dead_letters` ADD `alerted_at` integer;--> statement-breakpoint
-- Kept deliveries from before the marker were alerted from the webhook route: counted as told, so the first cron after the deploy does not mail them again.
UPDATE `dead_letters` SET `alerted_at` = `created_at`;--> statement-breakpoint
CREATE INDEX `dead_letters_unalerted` ON `dead_letters` (`created_at`) WHERE alerted_at IS NULL;
