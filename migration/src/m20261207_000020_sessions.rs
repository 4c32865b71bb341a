//! Named sessions: the device a session (refresh-token family) was started from, for the
//! account's list of sessions. Access tokens now carry the session's ID (`sid`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    Device,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("refresh_token", "device").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshToken::Table)
                    .add_column(string_len_null(RefreshToken::Device, 200))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshToken::Table)
                    .drop_column(RefreshToken::Device)
                    .to_owned(),
            )
            .await
    }
}
