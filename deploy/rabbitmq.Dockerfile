# RabbitMQ with the delayed-message exchange plugin (the orders service detects
# it at start and uses it; without it, TTL wait queues do the same).
FROM rabbitmq:3.13-management
ADD --chmod=644 https://github.com/rabbitmq/rabbitmq-delayed-message-exchange/releases/download/v3.13.0/rabbitmq_delayed_message_exchange-3.13.0.ez /opt/rabbitmq/plugins/
RUN rabbitmq-plugins enable --offline rabbitmq_delayed_message_exchange rabbitmq_management
