"""The partner exchange: terminals, customs offices and the national logistics node, over RabbitMQ."""
