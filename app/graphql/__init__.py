"""The GraphQL Management API: types, resolvers and the permission directives."""
