// Every operation the web client runs, typed from schema.graphql.
import { graphql } from './graphql';

export const ImageFields = graphql(`
  fragment ImageFields on Image {
    id url posterUrl type contentType durationMs prompt model aspectRatio favorite width height createdAt
  }
`);

export const SignInWithTelegram = graphql(`
  mutation SignInWithTelegram($initData: String!) { signInWithTelegram(initData: $initData) { token } }
`);
export const SignOut = graphql(`mutation SignOut { signOut }`);

export const Me = graphql(`query Me { me { id firstName username languageCode balance telegramId } }`);
export const Models = graphql(`
  query Models { models { id name description pricePerImage aspectRatios maxImages imageType requiresAvatar clipSeconds } }
`);
export const Quote = graphql(`
  query Quote($model: String!, $numImages: Int!) { quote(model: $model, numImages: $numImages) { toPay balanceAfter } }
`);

export const GenerationFields = graphql(`
  fragment GenerationFields on Generation {
    id status progress queuePosition eta error prompt model aspectRatio numImages cost blockedImages avatarId
    images { ...ImageFields }
  }
`, [ImageFields]);

export const CreateGeneration = graphql(`
  mutation CreateGeneration($input: CreateGenerationInput!) { createGeneration(input: $input) { ...GenerationFields } }
`, [GenerationFields]);
export const CancelGeneration = graphql(`
  mutation CancelGeneration($id: ID!) { cancelGeneration(id: $id) { ...GenerationFields } }
`, [GenerationFields]);
export const GenerationUpdated = graphql(`
  subscription GenerationUpdated($id: ID!) { generationUpdated(id: $id) { ...GenerationFields } }
`, [GenerationFields]);

export const Gallery = graphql(`
  query Gallery($filter: GalleryFilter, $first: Int = 20, $after: String) {
    gallery(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...ImageFields } }
    }
  }
`, [ImageFields]);
export const GalleryStats = graphql(`
  query GalleryStats($filter: GalleryFilter) {
    galleryStats(filter: $filter) { total favorites last30Days creditsSpent byType { type count } }
  }
`);
export const SavedFilters = graphql(`
  query SavedFilters {
    savedFilters { id name filter { types models favoritesOnly createdAfter createdBefore aspectRatios avatarIds promptContains } }
  }
`);
export const SaveFilter = graphql(`
  mutation SaveFilter($input: SaveFilterInput!) { saveFilter(input: $input) { id name } }
`);
export const DeleteSavedFilter = graphql(`mutation DeleteSavedFilter($id: ID!) { deleteSavedFilter(id: $id) }`);

export const ViewerImage = graphql(`
  query ViewerImage($id: ID!, $filter: GalleryFilter) {
    image(id: $id) {
      ...ImageFields
      position(filter: $filter) { index total }
      previous(filter: $filter) { id }
      next(filter: $filter) { id }
    }
  }
`, [ImageFields]);
export const SetFavorite = graphql(`
  mutation SetFavorite($imageId: ID!, $favorite: Boolean!) { setFavorite(imageId: $imageId, favorite: $favorite) { id favorite } }
`);
export const DeleteImage = graphql(`mutation DeleteImage($id: ID!) { deleteImage(id: $id) }`);

export const BalancePage = graphql(`
  query BalancePage {
    me {
      balance
      telegramId
      transactions(first: 20) { edges { node { id kind amount balanceAfter reason createdAt } } }
    }
    creditPackages { id stars credits }
  }
`);
export const BalanceChanged = graphql(`subscription BalanceChanged { balanceChanged { balance } }`);
export const CreateInvoiceLink = graphql(`
  mutation CreateInvoiceLink($packageId: String!) { createStarsInvoiceLink(packageId: $packageId) { link stars credits } }
`);

export const AvatarFields = graphql(`
  fragment AvatarFields on Avatar {
    id name trainingType status progress isMain photoCount canTrain retraining trainingPrice error generationCount
    photos { id status rejectReason url }
  }
`);
export const Avatars = graphql(`query Avatars { avatars { ...AvatarFields } }`, [AvatarFields]);
export const CreateAvatar = graphql(`
  mutation CreateAvatar($input: CreateAvatarInput!) { createAvatar(input: $input) { ...AvatarFields } }
`, [AvatarFields]);
export const AddAvatarPhotos = graphql(`
  mutation AddAvatarPhotos($avatarId: ID!, $photos: [Upload!]!) { addAvatarPhotos(avatarId: $avatarId, photos: $photos) { ...AvatarFields } }
`, [AvatarFields]);
export const StartAvatarTraining = graphql(`
  mutation StartAvatarTraining($avatarId: ID!) { startAvatarTraining(avatarId: $avatarId) { ...AvatarFields } }
`, [AvatarFields]);
export const CancelAvatarTraining = graphql(`
  mutation CancelAvatarTraining($avatarId: ID!) { cancelAvatarTraining(avatarId: $avatarId) { ...AvatarFields } }
`, [AvatarFields]);
export const DeleteAvatar = graphql(`mutation DeleteAvatar($id: ID!) { deleteAvatar(id: $id) }`);
export const AvatarUpdated = graphql(`
  subscription AvatarUpdated($id: ID!) { avatarUpdated(id: $id) { ...AvatarFields } }
`, [AvatarFields]);
