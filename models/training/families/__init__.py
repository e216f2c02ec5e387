"""Training stages of the model families, registered as trainers when imported (see ``registry.TRAINER_MODULES``)."""
