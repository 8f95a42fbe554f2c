-- A flow's optional filter: a JSONata expression over the transfer input; the flow runs for an order only when it is truthy. Existing flows keep null (every order, as before). Apply before deploying the Worker that reads it: its flow query selects the column.
ALTER TABLE `flows` ADD `filter` text;
