/** Built-in Azure role definition ids (GUIDs, the same in every tenant) the Azure platform assigns. */
export const AZURE_ROLES = {
    storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    storageQueueDataMessageProcessor: "8a0f0c08-91a1-4084-bc3d-661d67233fed",
    storageQueueDataMessageSender: "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",
    acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    acrPush: "8311e382-0749-4cb8-b61a-304f252e45ec",
    aksRbacClusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    networkContributor: "4d97b98b-1d4f-4787-a291-c67861a8f57b",
    keyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
} as const;

export type AzureRole = keyof typeof AZURE_ROLES;

/** Full role definition id for a role assignment in a subscription. */
export function roleDefinitionId(subscriptionId: string, role: AzureRole): string {
    return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${AZURE_ROLES[role]}`;
}
