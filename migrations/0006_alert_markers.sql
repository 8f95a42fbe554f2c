ALTER TABLE `transfer_steps` ADD `alerted_at` integer;--> statement-breakpoint
ALTER TABLE `transfers` ADD `alerted_at` integer;--> statement-breakpoint
-- History from before alerts existed counts as alerted, so the first cron after the deploy does not mail it all.
UPDATE `transfers` SET `alerted_at` = `updated_at` WHERE `status` = 'failed';--> statement-breakpoint
UPDATE `transfer_steps` SET `alerted_at` = `updated_at` WHERE `output` IS NOT NULL;
