//! Events can approve QR/GEO-verified service automatically.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CharityEvent {
    Table,
    AutoApproveVerified,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CharityEvent::Table)
                    .add_column(boolean(CharityEvent::AutoApproveVerified).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CharityEvent::Table)
                    .drop_column(CharityEvent::AutoApproveVerified)
                    .to_owned(),
            )
            .await
    }
}
