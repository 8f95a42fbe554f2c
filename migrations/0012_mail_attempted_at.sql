-- When the last attempt that may have handed an email to its provider began: a Postmark retry counts its wait from it. Rows of earlier releases keep null and are read as created_at. Apply before deploying the Worker that writes it.
ALTER TABLE `mail_outbox` ADD `attempted_at` integer;
